"""Privacy worker: a customer's export or erasure, step by step (SQS, partial batch failures).

Each step is idempotent and the request records the steps it finished, so a job delivered again
after a crash carries on where it stopped; on its last delivery a request that cannot finish is
marked failed, and its job goes on to the dead-letter queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.ads.secrets import AdsSecrets
from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import queue_reply
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.records import OutboundRecord
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.privacy.ads_holdings import AdsHoldings
from chatshop.privacy.bucket_holdings import BucketHoldings
from chatshop.privacy.chat_requests import ExportReadyMessage
from chatshop.privacy.jobs import PrivacyQueue
from chatshop.privacy.messaging_holdings import MessagingHoldings
from chatshop.privacy.request_store import PrivacyRequestStore
from chatshop.privacy.requests import ExportLink, PrivacyJob, PrivacyRequest
from chatshop.privacy.service import Holdings, PrivacyWorker

settings = load_settings()
logger = get_logger()


def ready_words(request: PrivacyRequest, country: str | None, link: ExportLink) -> dict[str, Any]:
    """The chat's word that the export is ready, in the conversation's language."""
    from chatshop.assistant.data_requests import export_ready
    from chatshop.assistant.i18n import supported, translator

    t = translator(supported(request.language) or "en", country)
    return export_ready(t, link.url, link.expires_at).model_dump(mode="json", exclude_none=True)


def shop_country(shop_id: str) -> str | None:
    from chatshop.shops.shop_store import ShopStore

    shop = ShopStore(settings).get(shop_id)
    return shop.country if shop else None


def send_reply(record: OutboundRecord) -> None:
    queue_reply(ConversationStore(settings), OutboundQueue(settings), record)


@cache
def worker() -> PrivacyWorker:
    from chatshop.orders.order_store import OrderStore

    secrets = AdsSecrets(settings)
    holdings = Holdings(
        messaging=MessagingHoldings(settings),
        bucket=BucketHoldings(settings),
        # Where orders or ads are not deployed, there is nothing of them to export or erase.
        orders=OrderStore(settings) if settings.orders_table else None,
        ads=AdsHoldings(settings) if settings.ads_table else None,
    )
    channels = ChannelStore(settings)
    return PrivacyWorker(
        PrivacyRequestStore(settings),
        holdings,
        channels,
        secrets.user_key_secret,
        PrivacyQueue(settings),
        export_ready=ExportReadyMessage(channels, send_reply, ready_words, shop_country),
    )


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, PrivacyJob)
    attempt = int(record.attributes.approximate_receive_count or 1)
    finished = worker().run(job, datetime.now(UTC), attempt)
    logger.info(
        "Privacy request run",
        extra={
            "request_id": job.request_id,
            "sweep": job.sweep,
            "status": finished.status if finished else None,
            "counts": finished.counts if finished else None,
        },
    )


handler = sqs_batch_handler(handle_record)
