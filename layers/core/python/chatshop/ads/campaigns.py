"""Campaigns of a shop: create, read, list, change with optimistic concurrency, report.

A campaign may target only countries where ``shop_ads`` is live and served by this region (403
otherwise, as for every feature), and only the country its shop sells in; its creative only the
shop's own products; its money only the shop's currency (422 naming the field otherwise).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from chatshop.platform.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from chatshop.platform.rollout import Rollout
from chatshop.shops.domain import Page, Shop
from chatshop.shops.money import Money

from .campaign_store import CampaignStore, Counters, StaleCampaign, StatsRow
from .domain import (
    TRANSITIONS,
    Campaign,
    CampaignCreate,
    CampaignPatch,
    CampaignReport,
    ReportRow,
    Schedule,
    ScheduleIn,
)
from .spend import Budget as SpendBudget

FEATURE = "shop_ads"
MILLI = 1000  # spend counters are kept in thousandths of a minor unit
MAX_HOURLY_RANGE = timedelta(days=14)
MAX_DAILY_RANGE = timedelta(days=366)


class ProductReader(Protocol):
    def get_many(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Any]: ...


class Budgets(Protocol):
    """Where budgets are kept for charging (``chatshop.ads.spend.SpendStore``)."""

    def set_budget(self, campaign_id: str, budget: SpendBudget, now: datetime) -> None: ...

    def exhausted_campaigns(self, now: datetime) -> frozenset[str]: ...


def new_campaign_id() -> str:
    return uuid.uuid4().hex


def create_campaign(
    store: CampaignStore,
    budgets: Budgets,
    products: ProductReader,
    rollout: Rollout,
    region: str,
    shop: Shop,
    new: CampaignCreate,
    now: datetime | None = None,
) -> Campaign:
    now = now or datetime.now(UTC)
    fields = new.model_dump(exclude={"schedule"})
    campaign = Campaign(
        id=new_campaign_id(),
        shop_id=shop.id,
        schedule=_schedule(new.schedule, shop),
        version=1,
        created_at=now,
        updated_at=now,
        **fields,
    )
    _check(campaign, products, rollout, region, shop)
    # The budget first: a campaign with none is never served, so a failure between the two writes
    # leaves nothing that could spend unbudgeted.
    budgets.set_budget(campaign.id, spend_budget(campaign), now)
    store.create(campaign)
    return campaign


def get_campaign(
    store: CampaignStore, budgets: Budgets, shop: Shop, campaign_id: str, now: datetime | None = None
) -> Campaign:
    campaign = store.get(shop.id, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign in this shop.")
    return _shown(campaign, budgets.exhausted_campaigns(now or datetime.now(UTC)))


def list_campaigns(
    store: CampaignStore,
    budgets: Budgets,
    shop: Shop,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> Page[Campaign]:
    campaigns, next_cursor = store.list(shop.id, limit, cursor)
    exhausted = budgets.exhausted_campaigns(now or datetime.now(UTC))
    return Page[Campaign](items=[_shown(c, exhausted) for c in campaigns], next_cursor=next_cursor)


def update_campaign(
    store: CampaignStore,
    budgets: Budgets,
    products: ProductReader,
    rollout: Rollout,
    region: str,
    shop: Shop,
    campaign_id: str,
    patch: CampaignPatch,
    if_match: str | None,
    now: datetime | None = None,
) -> Campaign:
    """Apply ``patch`` if the client saw the latest version (its ETag in ``if_match``)."""
    now = now or datetime.now(UTC)
    current = store.get(shop.id, campaign_id)
    if current is None:
        raise NotFound("No such campaign in this shop.")
    if not if_match:
        raise PreconditionRequired()
    if if_match.strip() not in (current.etag, f"W/{current.etag}"):
        raise PreconditionFailed("The campaign changed since you read it; GET it again for the new ETag.")
    changes = patch.model_dump(exclude_unset=True, exclude={"schedule", "status"})
    if patch.status is not None and patch.status not in TRANSITIONS[current.status]:
        raise Conflict(f"A campaign that is {current.status} cannot become {patch.status}.")
    if current.status == "ended" and patch.model_fields_set - {"status"}:
        raise Conflict("An ended campaign cannot be changed.")
    values = current.model_dump()
    values.update(changes)
    if "frequency_cap" in patch.model_fields_set:
        values["frequency_cap"] = changes.get("frequency_cap")
    if patch.schedule is not None:
        values["schedule"] = _schedule(patch.schedule, shop).model_dump()
    if patch.status is not None and patch.status != current.status:
        values["status"] = patch.status
        values["ended_reason"] = "by_merchant" if patch.status == "ended" else None
    values.update(version=current.version + 1, updated_at=now)
    try:
        updated = Campaign.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None
    _check(updated, products, rollout, region, shop)
    try:
        store.replace(updated, expected_version=current.version)
    except StaleCampaign:
        raise PreconditionFailed(
            "The campaign changed since you read it; GET it again for the new ETag."
        ) from None
    if updated.budget != current.budget:
        budgets.set_budget(updated.id, spend_budget(updated), now)
    return _shown(updated, budgets.exhausted_campaigns(now))


def campaign_report(
    store: CampaignStore,
    shop: Shop,
    campaign_id: str,
    start: datetime | None,
    end: datetime | None,
    granularity: Literal["hour", "day"],
    now: datetime | None = None,
) -> CampaignReport:
    """Impressions, clicks, CTR, spend, conversions, revenue and ROAS per hour or per UTC day."""
    campaign = store.get(shop.id, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign in this shop.")
    now = now or datetime.now(UTC)
    step = timedelta(hours=1) if granularity == "hour" else timedelta(days=1)
    end = _floor(end or now + step, granularity)
    default_span = timedelta(days=1) if granularity == "hour" else timedelta(days=7)
    start = _floor(start or end - default_span, granularity)
    if end <= start:
        raise ValidationFailed(["to"], "to must come after from.")
    if end - start > (MAX_HOURLY_RANGE if granularity == "hour" else MAX_DAILY_RANGE):
        limit = "14 days by hour" if granularity == "hour" else "366 days by day"
        raise ValidationFailed(["from"], f"A report covers at most {limit}.")
    buckets: dict[datetime, list[StatsRow]] = {}
    for row in store.stats(campaign.id, start, end):
        buckets.setdefault(_floor(row.hour, granularity), []).append(row)
    rows = []
    moment = start
    while moment < end:
        rows.append(_report_row(moment, buckets.get(moment, []), campaign.currency))
        moment += step
    every = [row for bucket in buckets.values() for row in bucket]
    return CampaignReport(
        campaign_id=campaign.id,
        granularity=granularity,
        start=start,
        end=end,
        totals=_report_row(start, every, campaign.currency),
        rows=rows,
    )


# --- budgets ---


def spend_budget(campaign: Campaign) -> SpendBudget:
    """The campaign's budget as the spend counters keep it (milli-minor units)."""
    return SpendBudget(campaign.budget.period, campaign.budget.amount.amount * MILLI)


def is_exhausted(campaign: Campaign, counters: Counters) -> bool:
    budget = campaign.budget.amount.amount * MILLI
    spent = counters.spent_today if campaign.budget.period == "daily" else counters.spent_lifetime
    return spent >= budget


# --- internals ---


def _check(campaign: Campaign, products: ProductReader, rollout: Rollout, region: str, shop: Shop) -> None:
    for field, money in (("budget", campaign.budget.amount), ("bid", campaign.bid.amount)):
        if money.currency != shop.currency:
            raise ValidationFailed([f"{field}.amount.currency"], f"Money in this shop is in {shop.currency}.")
        if money.amount < 1:
            raise ValidationFailed([f"{field}.amount.amount"], f"The {field} must be more than zero.")
    if campaign.bid.model == "cpc" and campaign.budget.amount.amount < campaign.bid.amount.amount:
        raise ValidationFailed(["budget.amount.amount"], "The budget must pay for at least one click.")
    schedule = campaign.schedule
    if schedule.end is not None and schedule.end <= schedule.start:
        raise ValidationFailed(["schedule.end"], "The schedule must end after it starts.")
    for country in campaign.targeting.countries:
        rollout.require_live(FEATURE, country, region)
        if country != shop.country:
            raise ValidationFailed(["targeting.countries"], f"This shop sells in {shop.country} only.")
    wanted = campaign.creative.product_ids
    found = products.get_many(shop.id, wanted)
    missing = [pid for pid in wanted if pid not in found]
    if missing:
        raise ValidationFailed(["creative.product_ids"], f"Not a product of this shop: {', '.join(missing)}.")


def _schedule(given: ScheduleIn, shop: Shop) -> Schedule:
    zone_name = given.timezone or shop.timezone
    zone = ZoneInfo(zone_name)

    def aware(moment: datetime) -> datetime:
        return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)

    return Schedule(
        start=aware(given.start),
        end=aware(given.end) if given.end is not None else None,
        timezone=zone_name,
    )


def _shown(campaign: Campaign, exhausted: frozenset[str]) -> Campaign:
    flag = campaign.id in exhausted
    return (
        campaign
        if flag == campaign.budget_exhausted
        else campaign.model_copy(update={"budget_exhausted": flag})
    )


def _floor(moment: datetime, granularity: str) -> datetime:
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    return datetime.combine(moment.date(), time(), tzinfo=UTC)


def _report_row(start: datetime, rows: list[StatsRow], currency: str) -> ReportRow:
    impressions = sum(r.impressions for r in rows)
    clicks = sum(r.clicks for r in rows)
    spent_minor = round(sum(r.spent for r in rows) / MILLI)
    revenue = sum(r.revenue for r in rows)
    return ReportRow(
        start=start,
        impressions=impressions,
        clicks=clicks,
        ctr=round(clicks / impressions, 6) if impressions else 0.0,
        spend=Money(amount=spent_minor, currency=currency),
        conversions=sum(r.conversions for r in rows),
        revenue=Money(amount=revenue, currency=currency),
        roas=round(revenue / spent_minor, 4) if spent_minor else None,
    )
