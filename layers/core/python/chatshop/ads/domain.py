"""Plain domain models of Shop Ads: what the campaign API takes and gives; no storage concerns.

Money is in the shop's currency, in minor units (``chatshop.shops.money.Money``). A campaign's
creative is one product or a collection of 3-10 of the shop's products; its budget is daily or
lifetime; its bid a maximum per click (``cpc``) or per thousand impressions (``cpm``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from chatshop.shops.domain import CountryCode, TimeZone
from chatshop.shops.money import MAX_AMOUNT, Money, whole_number

Objective = Literal["traffic", "messages"]
Placement = Literal["marketplace_feed", "search"]
CampaignStatus = Literal["draft", "active", "paused", "ended"]
BudgetPeriod = Literal["daily", "lifetime"]
BidModel = Literal["cpc", "cpm"]
CapWindow = Literal["hour", "day", "week"]

# draft -> active <-> paused -> ended; ended is final, and a draft may be dropped (ended) unrun.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"draft", "active", "ended"}),
    "active": frozenset({"active", "paused", "ended"}),
    "paused": frozenset({"paused", "active", "ended"}),
    "ended": frozenset({"ended"}),
}

MIN_COLLECTION = 3
MAX_COLLECTION = 10

ProductId = Annotated[str, StringConstraints(pattern=r"^p[0-9a-f]{31}$")]


def _text(max_length: int) -> StringConstraints:
    # Stripped before it is checked: the pattern says that some character must be left.
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length, pattern=r"\S")


CampaignName = Annotated[str, _text(100)]
Headline = Annotated[str, _text(90)]
Keyword = Annotated[str, _text(60)]
Category = Annotated[str, _text(250)]


class _Input(BaseModel):
    """Client input: unknown fields are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Placements = Annotated[
    list[Placement], Field(min_length=1, max_length=2, json_schema_extra={"uniqueItems": True})
]


class PositiveMoney(Money):
    """Money of at least one minor unit (a budget or a bid of nothing buys nothing)."""

    amount: whole_number(1, MAX_AMOUNT)  # type: ignore[valid-type]


def _one_or_a_collection_schema(schema: dict) -> None:
    schema["uniqueItems"] = True
    schema["not"] = {"minItems": 2, "maxItems": 2}


class Creative(_Input):
    """One product, or a collection of 3-10 (the first is the hero), under a headline."""

    product_ids: Annotated[
        list[ProductId],
        Field(min_length=1, max_length=MAX_COLLECTION, json_schema_extra=_one_or_a_collection_schema),
    ]
    headline: Headline

    @field_validator("product_ids")
    @classmethod
    def _one_or_a_collection(cls, ids: list[str]) -> list[str]:
        if len(set(ids)) != len(ids):
            raise ValueError("a product is listed twice")
        if 1 < len(ids) < MIN_COLLECTION:
            raise ValueError(f"one product, or a collection of {MIN_COLLECTION} to {MAX_COLLECTION}")
        return ids


class Budget(_Input):
    period: BudgetPeriod
    amount: PositiveMoney


class Bid(_Input):
    """The most the shop pays: per click (cpc) or per thousand impressions (cpm)."""

    model: BidModel
    amount: PositiveMoney


class ScheduleIn(_Input):
    """Start and end; times without an offset are read in ``timezone`` (default: the shop's)."""

    start: datetime
    end: datetime | None = None
    timezone: TimeZone | None = None


class Targeting(_Input):
    countries: Annotated[list[CountryCode], Field(min_length=1, max_length=10)]
    categories: Annotated[list[Category], Field(max_length=20)] = []
    keywords: Annotated[list[Keyword], Field(max_length=50)] = []


class FrequencyCap(_Input):
    impressions: whole_number(1, 1000)  # type: ignore[valid-type]
    window: CapWindow


class CampaignCreate(_Input):
    name: CampaignName
    objective: Objective = "traffic"
    placements: Placements
    creative: Creative
    budget: Budget
    bid: Bid
    schedule: ScheduleIn
    targeting: Targeting
    frequency_cap: FrequencyCap | None = None
    status: Literal["draft", "active"] = "draft"

    @field_validator("placements")
    @classmethod
    def _distinct(cls, placements: list[str]) -> list[str]:
        if len(set(placements)) != len(placements):
            raise ValueError("a placement is listed twice")
        return placements


class CampaignPatch(_Input):
    """Any field; ``status`` moves along draft -> active <-> paused -> ended."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"minProperties": 1})

    name: CampaignName | None = None
    placements: Placements | None = None
    creative: Creative | None = None
    budget: Budget | None = None
    bid: Bid | None = None
    schedule: ScheduleIn | None = None
    targeting: Targeting | None = None
    frequency_cap: FrequencyCap | None = None
    status: CampaignStatus | None = None

    @field_validator("placements")
    @classmethod
    def _distinct(cls, placements: list[str] | None) -> list[str] | None:
        if placements is not None and len(set(placements)) != len(placements):
            raise ValueError("a placement is listed twice")
        return placements

    @model_validator(mode="after")
    def _something(self) -> CampaignPatch:
        if not self.model_fields_set:
            raise ValueError("a patch changes at least one field")
        return self


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime | None = None
    timezone: str


class Campaign(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    shop_id: str
    name: str
    objective: Objective
    placements: list[Placement]
    creative: Creative
    budget: Budget
    bid: Bid
    schedule: Schedule
    targeting: Targeting
    frequency_cap: FrequencyCap | None = None
    status: CampaignStatus
    budget_exhausted: bool = False
    ended_reason: Literal["by_merchant", "schedule_over", "budget_spent"] | None = None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        return f'"{self.id}-v{self.version}"'

    @property
    def currency(self) -> str:
        return self.budget.amount.currency


class ReportRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    impressions: int = 0
    clicks: int = 0
    ctr: float = 0.0
    spend: Money
    conversions: int = 0
    revenue: Money
    roas: float | None = None


class CampaignReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign_id: str
    granularity: Literal["hour", "day"]
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    totals: ReportRow
    rows: list[ReportRow]

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)
