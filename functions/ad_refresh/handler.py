"""Ad refresh (a schedule, every five minutes): pacing, click rates, campaign ends, the decision
snapshot and the curated collections, for the run's time slot (``chatshop.ads.refresh``)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from chatshop.ads.campaign_store import CampaignStore
from chatshop.ads.chat_links import CampaignLinks
from chatshop.ads.refresh import StoreCatalog, run_refresh
from chatshop.ads.serving import FEATURE
from chatshop.ads.snapshot import SnapshotBucket
from chatshop.ads.users import is_special_category
from chatshop.messaging.channel_store import ChannelStore
from chatshop.platform import aws
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.platform.rollout import load_rollout
from chatshop.recruiting.link_store import LinkStore
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore

settings = load_settings()
logger = get_logger()


@cache
def dependencies() -> tuple[CampaignStore, StoreCatalog, SnapshotBucket, CampaignLinks | None]:
    # A messages campaign's click opens the shop's chat: its number is read where the chat is
    # deployed, and the campaign's link registered with the shop's links there.
    channels = ChannelStore(settings) if settings.messaging_table else None
    links = CampaignLinks(LinkStore(settings)) if settings.messaging_table else None
    catalog = StoreCatalog(ShopStore(settings), ProductStore(settings), channels)
    bucket = SnapshotBucket(aws.client("s3", settings), settings.require("ads_bucket"))
    return CampaignStore(settings), catalog, bucket, links


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The time the schedule fired for (EventBridge's ``time``): a retried invocation of one firing
    keeps its slot, so it changes nothing a second time."""
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            logger.warning("A schedule event with an unreadable time; using the clock")
    return datetime.now(UTC)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    campaigns, catalog, bucket, links = dependencies()
    rollout = load_rollout(settings=settings)
    result = run_refresh(
        campaigns,
        catalog,
        bucket,
        scheduled_time(event),
        live=lambda country: rollout.is_live(FEATURE, country, settings.region),
        is_special=is_special_category,
        chat_links=links,
    )
    logger.info("Ad refresh", extra=result.__dict__)
    return dict(result.__dict__)
