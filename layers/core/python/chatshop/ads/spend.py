"""Spend and delivery counters of campaigns in the ads table, charged so a budget is never passed.

Items (``pk=CAMPAIGN#<campaign_id>``):

* ``sk=SPEND#LIFETIME``: ``spent``, and the budget: ``budget_kind`` (``daily`` | ``lifetime``);
  a lifetime budget as ``budget`` and ``remaining``; a daily one as ``daily_budget``, copied onto
  each day's item by that day's first charge.
* ``sk=SPEND#<yyyy-mm-dd>`` (UTC day): ``spent``, and for a daily budget ``budget`` and ``remaining``.
* ``sk=STATS#<yyyy-mm-ddThh>`` (UTC hour): ``impressions``, ``clicks``, ``spent`` and ``unbilled``
  (events that happened when the budget had nothing left for them), for reports and predicted CTRs.

Every amount is in milli-minor units (see ``chatshop.ads.tokens``).

A charge is one conditional update of the budgeted item, ``remaining >= :price`` with ``ADD remaining
-:price`` (DynamoDB conditions have no arithmetic, so the item keeps what is left rather than
comparing ``spent + price`` with the budget). It is sent in one transaction with the event's
idempotency record, so an event is charged exactly once and the budget is never passed at all: the
last price that does not fit is refused, and what is left unspent is below one price. A charge that
is refused, or that leaves less than its own price, puts the campaign in ``pk=ADS, sk=EXHAUSTED``
(``lifetime``: a string set; ``daily``: today's set, with ``day`` saying which day it is for), which
decisions read through :meth:`SpendStore.exhausted_campaigns` within seconds, not at the next refresh.

``set_budget`` is for the campaign code: a campaign's budget is written here when it is created or
changed; a campaign with no budget here is never charged and counts as exhausted, so nothing is
served unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.ttl_cache import TTLCache

__all__ = [
    "LIFETIME_KEY",
    "Budget",
    "CampaignStats",
    "SpendStore",
    "spend_day",
    "stats_hour",
]

BudgetKind = Literal["daily", "lifetime"]
LIFETIME_KEY = "SPEND#LIFETIME"
EXHAUSTED_KEY = {"pk": {"S": "ADS"}, "sk": {"S": "EXHAUSTED"}}
# How stale the exhausted set a decision reads may be; the bound on serving an exhausted campaign.
EXHAUSTED_CACHE_S = 3.0
BUDGET_CACHE_S = 5.0


def campaign_pk(campaign_id: str) -> dict[str, str]:
    return {"S": f"CAMPAIGN#{campaign_id}"}


def spend_day(now: datetime) -> str:
    """The UTC day a charge at ``now`` counts for, as the exhausted set's (Kevel also resets at 00:00 UTC)."""
    return now.astimezone(UTC).date().isoformat()


def stats_hour(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


@dataclass(frozen=True)
class Budget:
    kind: BudgetKind
    amount_milli: int


@dataclass(frozen=True)
class CampaignStats:
    hour: str  # yyyy-mm-ddThh, UTC
    impressions: int
    clicks: int
    spent_milli: int
    unbilled: int


class SpendStore:
    def __init__(self, settings: Settings, clock_s: Any = None) -> None:
        self.table = settings.require("ads_table")
        self.client = aws.client("dynamodb", settings)
        self._clock_kwargs: dict[str, Any] = {} if clock_s is None else {"clock": clock_s}
        self._exhausted: TTLCache[frozenset[str]] = TTLCache(4, EXHAUSTED_CACHE_S, **self._clock_kwargs)
        self._budgets: TTLCache[Budget] = TTLCache(4096, BUDGET_CACHE_S, **self._clock_kwargs)

    # --- budgets (written by the campaign code) ------------------------------------------------

    def set_budget(self, campaign_id: str, budget: Budget, now: datetime) -> None:
        """Set (or change) a campaign's budget; what was spent so far counts against the new one."""
        if budget.amount_milli <= 0:
            raise ValueError("a budget is positive")
        zero, amount = {"N": "0"}, {"N": str(budget.amount_milli)}
        if budget.kind == "lifetime":
            lifetime = (
                "SET budget_kind = :kind, budget = :b, remaining = :b - if_not_exists(spent, :zero)"
                " REMOVE daily_budget"
            )
        else:
            lifetime = "SET budget_kind = :kind, daily_budget = :b REMOVE budget, remaining"
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": {"pk": campaign_pk(campaign_id), "sk": {"S": LIFETIME_KEY}},
                    "UpdateExpression": lifetime,
                    "ExpressionAttributeValues": {":kind": {"S": budget.kind}, ":b": amount}
                    | ({":zero": zero} if budget.kind == "lifetime" else {}),
                }
            }
        ]
        day_key = {"pk": campaign_pk(campaign_id), "sk": {"S": f"SPEND#{spend_day(now)}"}}
        if budget.kind == "daily":
            today = "SET budget = :b, remaining = :b - if_not_exists(spent, :zero)"
            values = {":b": amount, ":zero": zero}
        else:
            today, values = "REMOVE budget, remaining", {}
        update: dict[str, Any] = {"TableName": self.table, "Key": day_key, "UpdateExpression": today}
        if values:
            update["ExpressionAttributeValues"] = values
        writes.append({"Update": update})
        self.client.transact_write_items(TransactItems=writes)
        self._budgets.discard(campaign_id)
        # A raised budget takes the campaign out of the exhausted set; the next refused charge puts it back.
        self._unexhaust(campaign_id)

    def forget_budget(self, campaign_id: str) -> None:
        self._budgets.discard(campaign_id)

    def budget(self, campaign_id: str) -> Budget | None:
        """The campaign's budget, read through a cache of a few seconds (it matters only for the
        first charge of a day: later ones are held to the day item's own copy)."""
        cached = self._budgets.get(campaign_id)
        if cached is not None:
            return cached
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": campaign_pk(campaign_id), "sk": {"S": LIFETIME_KEY}},
            ProjectionExpression="budget_kind, budget, daily_budget",
        ).get("Item")
        budget = _budget_of(item)
        if budget is not None:
            self._budgets.put(campaign_id, budget)
        return budget

    # --- the writes an event's transaction is made of --------------------------------------------

    def charge_writes(self, campaign_id: str, budget: Budget, price_milli: int, now: datetime) -> list[dict]:
        """The two counter updates that charge ``price_milli``; the budgeted one carries the condition."""
        price, minus = {"N": str(price_milli)}, {"N": str(-price_milli)}
        day_key = {"pk": campaign_pk(campaign_id), "sk": {"S": f"SPEND#{spend_day(now)}"}}
        life_key = {"pk": campaign_pk(campaign_id), "sk": {"S": LIFETIME_KEY}}
        if budget.kind == "daily":
            day: dict[str, Any] = {
                "UpdateExpression": (
                    "ADD spent :p SET budget = if_not_exists(budget, :b), "
                    "remaining = if_not_exists(remaining, :b) - :p"
                ),
                # A day's first charge creates the item from the campaign's daily budget; a budget
                # smaller than one price never gets that far (see EventRecorder).
                "ConditionExpression": "attribute_not_exists(remaining) OR remaining >= :p",
                "ExpressionAttributeValues": {":p": price, ":b": {"N": str(budget.amount_milli)}},
            }
            life: dict[str, Any] = {
                "UpdateExpression": "ADD spent :p",
                "ExpressionAttributeValues": {":p": price},
            }
        else:
            day = {"UpdateExpression": "ADD spent :p", "ExpressionAttributeValues": {":p": price}}
            life = {
                "UpdateExpression": "ADD spent :p, remaining :m",
                "ConditionExpression": "remaining >= :p",
                "ExpressionAttributeValues": {":p": price, ":m": minus},
            }
        return [
            {"Update": {"TableName": self.table, "Key": day_key, **day}},
            {"Update": {"TableName": self.table, "Key": life_key, **life}},
        ]

    def stats_write(self, campaign_id: str, kind: str, price_milli: int, billed: bool, now: datetime) -> dict:
        counter = "impressions" if kind == "impression" else "clicks"
        expression = f"ADD {counter} :one, spent :p" if billed else f"ADD {counter} :one, unbilled :one"
        values = {":one": {"N": "1"}} | ({":p": {"N": str(price_milli)}} if billed else {})
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": campaign_pk(campaign_id), "sk": {"S": f"STATS#{stats_hour(now)}"}},
                "UpdateExpression": expression,
                "ExpressionAttributeValues": values,
            }
        }

    def left_to_spend(self, campaign_id: str, budget: Budget, now: datetime) -> int | None:
        sk = f"SPEND#{spend_day(now)}" if budget.kind == "daily" else LIFETIME_KEY
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": campaign_pk(campaign_id), "sk": {"S": sk}},
            ProjectionExpression="remaining",
            ConsistentRead=True,
        ).get("Item")
        return int(item["remaining"]["N"]) if item and "remaining" in item else None

    # --- the exhausted set -------------------------------------------------------------------

    def mark_exhausted(self, campaign_id: str, budget: Budget | None, now: datetime) -> None:
        ids = {"SS": [campaign_id]}
        if budget is None or budget.kind == "lifetime":
            self.client.update_item(
                TableName=self.table,
                Key=EXHAUSTED_KEY,
                UpdateExpression="ADD lifetime :id",
                ExpressionAttributeValues={":id": ids},
            )
        else:
            self._add_for_day(ids, spend_day(now))
        self._exhausted.discard(spend_day(now))

    def _add_for_day(self, ids: dict[str, Any], day: str) -> None:
        conditional = self.client.exceptions.ConditionalCheckFailedException
        for _ in range(3):
            try:  # today's set already: add to it
                self.client.update_item(
                    TableName=self.table,
                    Key=EXHAUSTED_KEY,
                    UpdateExpression="ADD daily :id",
                    ConditionExpression="#day = :day",
                    ExpressionAttributeNames={"#day": "day"},
                    ExpressionAttributeValues={":id": ids, ":day": {"S": day}},
                )
                return
            except conditional:
                pass
            try:  # the first of the day: yesterday's set goes, whole, in the same write
                self.client.update_item(
                    TableName=self.table,
                    Key=EXHAUSTED_KEY,
                    UpdateExpression="SET #day = :day, daily = :id",
                    ConditionExpression="attribute_not_exists(#day) OR #day < :day",
                    ExpressionAttributeNames={"#day": "day"},
                    ExpressionAttributeValues={":id": ids, ":day": {"S": day}},
                )
                return
            except conditional:
                pass  # another writer began the day first (or the clock is behind): add to theirs

    def _unexhaust(self, campaign_id: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=EXHAUSTED_KEY,
            UpdateExpression="DELETE lifetime :id, daily :id",
            ExpressionAttributeValues={":id": {"SS": [campaign_id]}},
        )
        self._exhausted = TTLCache(4, EXHAUSTED_CACHE_S, **self._clock_kwargs)

    def exhausted_campaigns(self, now: datetime) -> frozenset[str]:
        """Campaigns with no budget left now (lifetime, or today's), read through a few seconds' cache."""
        day = spend_day(now)
        cached = self._exhausted.get(day)
        if cached is not None:
            return cached
        item = self.client.get_item(TableName=self.table, Key=EXHAUSTED_KEY).get("Item") or {}
        found = set(item.get("lifetime", {}).get("SS", []))
        if item.get("day", {}).get("S") == day:
            found |= set(item.get("daily", {}).get("SS", []))
        exhausted = frozenset(found)
        self._exhausted.put(day, exhausted)
        return exhausted

    # --- reads for reports and pacing --------------------------------------------------------

    def spent(self, campaign_id: str, day: date | None = None) -> int:
        """What a campaign has spent on ``day`` (UTC), or in all without one, in milli-minor units."""
        sk = f"SPEND#{day.isoformat()}" if day is not None else LIFETIME_KEY
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": campaign_pk(campaign_id), "sk": {"S": sk}},
            ProjectionExpression="spent",
            ConsistentRead=True,
        ).get("Item")
        return int(item["spent"]["N"]) if item and "spent" in item else 0

    def hourly_stats(self, campaign_id: str, start: datetime, end: datetime) -> list[CampaignStats]:
        """The campaign's hourly counters from ``start``'s hour to ``end``'s, oldest first."""
        rows: list[CampaignStats] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :start AND :end",
            "ExpressionAttributeValues": {
                ":pk": campaign_pk(campaign_id),
                ":start": {"S": f"STATS#{stats_hour(start)}"},
                ":end": {"S": f"STATS#{stats_hour(end)}"},
            },
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                rows.append(
                    CampaignStats(
                        hour=item["sk"]["S"].removeprefix("STATS#"),
                        impressions=_n(item, "impressions"),
                        clicks=_n(item, "clicks"),
                        spent_milli=_n(item, "spent"),
                        unbilled=_n(item, "unbilled"),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return rows
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _n(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def _budget_of(item: dict[str, Any] | None) -> Budget | None:
    if not item or "budget_kind" not in item:
        return None
    kind = item["budget_kind"]["S"]
    if kind == "daily" and "daily_budget" in item:
        return Budget("daily", int(item["daily_budget"]["N"]))
    if kind == "lifetime" and "budget" in item:
        return Budget("lifetime", int(item["budget"]["N"]))
    return None
