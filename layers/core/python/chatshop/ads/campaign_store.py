"""Data access for campaigns and the counters the refresh reads, in the ads table.

Single-table layout (keys ``pk``/``sk``):

- campaign: ``pk=SHOP#<shop>``, ``sk=CAMPAIGN#<id>``; the campaign as one JSON document (``doc``),
  its ``version`` for conditional writes. An active campaign is also on gsi1, a sparse index
  sharded over :data:`LIVE_SHARDS` partitions (``gsi1pk=LIVE#<n>``, ``gsi1sk=<id>``), so the refresh
  reads every active campaign of the region with a few parallel queries, never a scan.
- spend and hourly counters: ``pk=CAMPAIGN#<id>``, ``sk=SPEND#<yyyy-mm-dd>|LIFETIME`` and
  ``sk=STATS#<yyyy-mm-ddThh>``, written by ``chatshop.ads.spend`` (budgets set there by the campaign
  code, charges by the event consumer; amounts in milli-minor units); read here in bulk for the
  refresh (spend against pacing, the last hour's impressions and clicks for the click rate) and the
  report (whose ``conversions`` and ``revenue``, in minor units, are counted where orders are
  credited to a campaign).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chatshop.platform import aws
from chatshop.platform.concurrency import map_in_context
from chatshop.platform.config import Settings
from chatshop.shops.cursor import cursor_after, decode_cursor

from .domain import Campaign

LIVE_SHARDS = 16
LIFETIME = "LIFETIME"
_LIST_KEYS = frozenset({"pk", "sk"})
_BATCH_GET_LIMIT = 100
_WORKERS = 8


class CampaignNotFound(Exception):
    pass


class StaleCampaign(Exception):
    """The campaign changed since it was read (its version moved on)."""


def shop_key(shop_id: str) -> str:
    return f"SHOP#{shop_id}"


def campaign_key(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def live_shard(campaign_id: str) -> int:
    return int(campaign_id[:4], 16) % LIVE_SHARDS


def spend_key(day: date | None) -> str:
    return f"SPEND#{LIFETIME if day is None else day.isoformat()}"


@dataclass(frozen=True)
class Counters:
    """What the refresh reads of one campaign: today's and the lifetime spend (milli-minor units),
    and one hour's impressions and clicks for its click rate."""

    spent_today: int = 0
    spent_lifetime: int = 0
    impressions: int = 0
    clicks: int = 0


@dataclass(frozen=True)
class StatsRow:
    hour: datetime
    impressions: int
    clicks: int
    spent: int  # milli-minor
    conversions: int
    revenue: int  # minor


class CampaignStore:
    def __init__(self, settings: Settings) -> None:
        self._table = settings.require("ads_table")
        self._client = aws.client("dynamodb", settings)

    # --- campaigns ---

    def create(self, campaign: Campaign) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=_campaign_item(campaign),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def replace(self, campaign: Campaign, expected_version: int) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.put_item(
                TableName=self._table,
                Item=_campaign_item(campaign),
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleCampaign(campaign.id) from None
            raise

    def get(self, shop_id: str, campaign_id: str) -> Campaign | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": shop_key(shop_id)}, "sk": {"S": campaign_key(campaign_id)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _campaign(item) if item else None

    def list(self, shop_id: str, limit: int, cursor: str | None) -> tuple[list[Campaign], str | None]:
        start = decode_cursor(cursor, ("pk", shop_key(shop_id)), _LIST_KEYS)
        options: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :campaign)",
            ExpressionAttributeValues={":pk": {"S": shop_key(shop_id)}, ":campaign": {"S": "CAMPAIGN#"}},
            Limit=limit + 1,
            **options,
        )
        items = response.get("Items", [])
        page = items[:limit]
        last = page[-1] if page else None
        next_cursor = (
            cursor_after({"pk": last["pk"]["S"], "sk": last["sk"]["S"]})
            if last and len(items) > limit
            else None
        )
        return [_campaign(item) for item in page], next_cursor

    def active(self) -> list[Campaign]:
        """Every active campaign of the region: the sparse index's shards, queried in parallel."""
        shards = map_in_context(self._shard, range(LIVE_SHARDS), _WORKERS)
        return [campaign for shard in shards for campaign in shard]

    def _shard(self, shard: int) -> list[Campaign]:
        found: list[Campaign] = []
        options: dict[str, Any] = {}
        while True:
            response = self._client.query(
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :live",
                ExpressionAttributeValues={":live": {"S": f"LIVE#{shard}"}},
                **options,
            )
            found.extend(_campaign(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return found
            options = {"ExclusiveStartKey": response["LastEvaluatedKey"]}

    # --- budgets and counters ---

    def counters(self, campaign_ids: Sequence[str], day: date, hour: datetime) -> dict[str, Counters]:
        """Each campaign's spend today and in all, and its impressions and clicks in ``hour`` (UTC),
        by consistent batch reads: three keys a campaign, no query."""
        ids = list(dict.fromkeys(campaign_ids))
        stats = f"STATS#{hour:%Y-%m-%dT%H}"
        keys = [
            {"pk": {"S": campaign_key(cid)}, "sk": {"S": sk}}
            for cid in ids
            for sk in (spend_key(day), spend_key(None), stats)
        ]
        chunks = [keys[i : i + _BATCH_GET_LIMIT] for i in range(0, len(keys), _BATCH_GET_LIMIT)]
        raw: dict[tuple[str, str], dict[str, Any]] = {}
        for items in map_in_context(self._batch_get, chunks, _WORKERS):
            raw.update({(item["pk"]["S"], item["sk"]["S"]): item for item in items})
        out: dict[str, Counters] = {}
        for cid in campaign_ids:
            today = raw.get((campaign_key(cid), spend_key(day)), {})
            lifetime = raw.get((campaign_key(cid), spend_key(None)), {})
            hourly = raw.get((campaign_key(cid), stats), {})
            out[cid] = Counters(
                spent_today=_number(today, "spent"),
                spent_lifetime=_number(lifetime, "spent"),
                impressions=_number(hourly, "impressions"),
                clicks=_number(hourly, "clicks"),
            )
        return out

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        request = {self._table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            found.extend(response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
        return found

    def stats(self, campaign_id: str, start: datetime, end: datetime) -> list[StatsRow]:
        """The campaign's hourly rows from ``start`` up to (not including) ``end``, both UTC hours."""
        rows: list[StatsRow] = []
        options: dict[str, Any] = {}
        while True:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues={
                    ":pk": {"S": campaign_key(campaign_id)},
                    ":from": {"S": f"STATS#{start:%Y-%m-%dT%H}"},
                    ":to": {"S": f"STATS#{end:%Y-%m-%dT%H}"},
                },
                **options,
            )
            for item in response.get("Items", []):
                hour = datetime.strptime(item["sk"]["S"][6:] + "+0000", "%Y-%m-%dT%H%z")
                if hour >= end:
                    continue
                rows.append(
                    StatsRow(
                        hour=hour,
                        impressions=_number(item, "impressions"),
                        clicks=_number(item, "clicks"),
                        spent=_number(item, "spent"),
                        conversions=_number(item, "conversions"),
                        revenue=_number(item, "revenue"),
                    )
                )
            if "LastEvaluatedKey" not in response:
                return rows
            options = {"ExclusiveStartKey": response["LastEvaluatedKey"]}


def _number(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    return int(float(value["N"])) if value and "N" in value else 0


def _campaign_item(campaign: Campaign) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": shop_key(campaign.shop_id)},
        "sk": {"S": campaign_key(campaign.id)},
        "doc": {"S": campaign.model_dump_json()},
        "version": {"N": str(campaign.version)},
        "status": {"S": campaign.status},
    }
    if campaign.status == "active":
        item["gsi1pk"] = {"S": f"LIVE#{live_shard(campaign.id)}"}
        item["gsi1sk"] = {"S": campaign.id}
    return item


def _campaign(item: dict[str, Any]) -> Campaign:
    return Campaign.model_validate(json.loads(item["doc"]["S"]))
