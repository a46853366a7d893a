"""Ad events: from a signed URL a browser fetched to spend charged, counters counted, caps and profile grown.

The event route (:func:`answer_event`) trusts only the token: a genuine one is queued as an
:class:`AdEvent` and answered; a forged, altered or expired one is answered exactly the same way
(204 for an impression, a redirect for a click) and queued nowhere, so a bot probing the route
learns nothing from it. A click goes only to the destination signed into its own token, never to a
URL from the query string; without one (or for a forged click), to the neutral landing page.

A token minted by another region's decision (its region is signed in) is that region's user's event:
it is counted only there. Here it is answered as a forged one would be, and nothing of it is queued
or kept; a click is sent on to the minting region's own event URL (from the configured peers, never
from the request), which counts it and redirects to the ad, or, where that region is not a known
peer, straight to the destination signed into the token.

The ad-events worker (:class:`EventRecorder`) counts each event once: its idempotency record
``pk=EVENT#<event_id>`` is put, conditionally, in the same transaction as the charge, the hourly
counter and the user's frequency caps, so a replayed token or a redelivered message counts nothing,
and a crash never leaves an event half counted. Only then, outside the transaction, does a click grow
the user's profile (which checks the user's consent itself; see ``chatshop.ads.users``).
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.observability import get_logger
from chatshop.platform.ttl_cache import TTLCache

from .spend import Budget, SpendStore
from .tokens import CLICK, IMPRESSION, EventClaim, EventKeys, kind_hint, verify
from .users import UserStore

__all__ = [
    "AdEvent",
    "AdEventQueue",
    "EventAnswer",
    "EventRecorder",
    "Outcome",
    "answer_event",
    "peer_event_urls",
]

EVENTS_PATH = "/ads/events/"
# A peer in WebhookPeers is named by its WhatsApp webhook URL on the region's API.
_WEBHOOK_PATH = "/webhooks/whatsapp"

# An event's idempotency record outlives its token (24 h) by a day: a replay after that is refused
# by the token's own expiry.
EVENT_RECORD_GRACE = timedelta(days=1)
# How long a sandbox remembers the events it queued, so a replayed URL is not queued again.
RECENTLY_QUEUED_S = 600.0
RECENTLY_QUEUED_MAX = 50_000
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF_S = 0.02
NonEmpty = Annotated[str, Field(min_length=1, max_length=1024)]


class AdEvent(BaseModel):
    """One counted-to-be event, as the event route queues it for the ad-events worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    kind: Literal["impression", "click"]
    decision_id: NonEmpty
    campaign_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^#]+$")]
    ad_id: NonEmpty
    user_key: NonEmpty | None = None
    price_milli: Annotated[int, Field(ge=0)]
    category: NonEmpty | None = None
    # The cap window the decision counted this impression in already (UserStore.reserve).
    reserved: Literal["hour", "day", "week"] | None = None
    at: datetime
    expires_at: int

    @classmethod
    def of(cls, claim: EventClaim, now: datetime) -> AdEvent:
        return cls(
            event_id=claim.event_id,
            kind=claim.kind,
            decision_id=claim.decision_id,
            campaign_id=claim.campaign_id,
            ad_id=claim.ad_id,
            user_key=claim.user_key,
            price_milli=claim.price_milli,
            category=claim.category,
            reserved=claim.reserved,  # type: ignore[arg-type]
            at=now,
            expires_at=claim.expires_at,
        )


class AdEventQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("ad_events_queue")
        self._sqs = aws.client("sqs", settings)

    def send(self, event: AdEvent) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=event.model_dump_json(exclude_none=True))


@dataclass(frozen=True)
class EventAnswer:
    status: int  # 204, or 302 with location
    location: str | None = None


def peer_event_urls(webhook_peers: str | None, own_region: str) -> dict[str, str]:
    """{region: that region's ``.../ads/events/`` URL} from the WebhookPeers setting (each peer's API
    URL and /webhooks/whatsapp), this region left out; a peer named by another URL is left out too."""
    from chatshop.messaging.relay import parse_peers

    urls = {}
    for region, url in parse_peers(webhook_peers, own_region).items():
        if url.rstrip("/").endswith(_WEBHOOK_PATH):
            urls[region] = url.rstrip("/").removesuffix(_WEBHOOK_PATH) + EVENTS_PATH
    return urls


def answer_event(
    token: str,
    keys: EventKeys,
    queue: AdEventQueue,
    landing_url: str,
    now: datetime,
    recently_queued: TTLCache[bool] | None = None,
    *,
    region: str,
    peers: Mapping[str, str] | None = None,
) -> EventAnswer:
    """The answer to ``GET /ads/events/{token}`` in ``region``; a genuine event of this region is
    queued on the way. ``peers``: the other regions' event URLs (:func:`peer_event_urls`).

    ``recently_queued`` (per sandbox) spares the queue a token fetched again and again within
    minutes; it only saves work: the worker's idempotency record is what counts an event once."""
    claim = verify(keys, token, now)
    if claim is None:
        get_logger().info("Ad event refused", extra={"kind": kind_hint(token)})
        return _answer(kind_hint(token), None, landing_url)
    if claim.region != region:
        get_logger().info("Ad event of another region", extra={"kind": claim.kind, "minted_in": claim.region})
        home = (peers or {}).get(claim.region)
        if claim.kind == CLICK and home is not None:
            return EventAnswer(302, home + token)
        return _answer(claim.kind, claim.destination, landing_url)
    if recently_queued is not None:
        if recently_queued.get(claim.event_id):
            return _answer(claim.kind, claim.destination, landing_url)
        recently_queued.put(claim.event_id, True)
    try:
        queue.send(AdEvent.of(claim, now))
    except Exception:  # noqa: BLE001 - the user is still answered; an event lost is spend not charged
        get_logger().exception(
            "Ad event not queued", extra={"kind": claim.kind, "campaign_id": claim.campaign_id}
        )
    return _answer(claim.kind, claim.destination, landing_url)


def _answer(kind: str, destination: str | None, landing_url: str) -> EventAnswer:
    if kind == CLICK:
        return EventAnswer(302, destination or landing_url)
    return EventAnswer(204)


class Outcome(enum.StrEnum):
    CHARGED = "charged"  # counted, and its price charged
    COUNTED = "counted"  # counted, nothing to charge (the impression of a CPC ad, a CPM ad's click)
    UNBILLED = "unbilled"  # counted, but the budget had no room left for its price
    DUPLICATE = "duplicate"  # counted before: nothing done


_REFUSED = object()


class EventRecorder:
    def __init__(
        self, settings: Settings, spend: SpendStore | None = None, users: UserStore | None = None
    ) -> None:
        self.spend = spend or SpendStore(settings)
        self.users = users or UserStore(settings)
        self.table = self.spend.table
        self.client = self.spend.client

    def record(self, event: AdEvent) -> Outcome:
        now = event.at.astimezone(UTC)
        outcome = self._count(event, now)
        if outcome is not Outcome.DUPLICATE and event.kind == CLICK and event.user_key and event.category:
            self.users.grow_profile(event.user_key, event.category, "click", now)
        return outcome

    def _count(self, event: AdEvent, now: datetime) -> Outcome:
        if event.price_milli == 0:
            counted = self._transact(event, now, None)
            return Outcome.DUPLICATE if counted is None else Outcome.COUNTED
        budget = self.spend.budget(event.campaign_id)
        exhausted = event.campaign_id in self.spend.exhausted_campaigns(now)
        # Known to be out of budget (within the set's few seconds): counted unbilled in one write,
        # without a charge bound to fail. A budget raised meanwhile takes the campaign out of the set.
        result = _REFUSED if exhausted else self._charge(event, now, budget)
        if result is _REFUSED and budget is not None and not exhausted:
            # Perhaps the budget changed kind or grew since it was cached: once more, read fresh.
            self.spend.forget_budget(event.campaign_id)
            fresh = self.spend.budget(event.campaign_id)
            if fresh != budget:
                budget = fresh
                result = self._charge(event, now, budget)
        if result is None:
            return Outcome.DUPLICATE
        if result is _REFUSED:
            # Shown all the same: counted, not charged, and the campaign stops being served.
            counted = self._transact(event, now, None)
            if not exhausted:
                self.spend.mark_exhausted(event.campaign_id, budget, now)
            return Outcome.DUPLICATE if counted is None else Outcome.UNBILLED
        assert budget is not None
        left = self.spend.left_to_spend(event.campaign_id, budget, now)
        if left is not None and left < event.price_milli:
            # Another event at this price would not fit: stop serving now rather than after a refusal.
            self.spend.mark_exhausted(event.campaign_id, budget, now)
        return Outcome.CHARGED

    def _charge(self, event: AdEvent, now: datetime, budget: Budget | None) -> Outcome | object | None:
        if budget is None or budget.amount_milli < event.price_milli:
            # No budget known (never charge what nobody agreed to pay), or one smaller than a price.
            return _REFUSED
        return self._transact(event, now, budget)

    def _transact(self, event: AdEvent, now: datetime, budget: Budget | None) -> Outcome | object | None:
        """One transaction: the event's record, its charge (with ``budget``), its counters, its caps.

        None: the event was counted before. _REFUSED: the charge did not fit, and nothing was written."""
        billed = budget is not None
        writes: list[dict[str, Any]] = [self._event_put(event, now, billed)]
        if budget is not None:
            writes += self.spend.charge_writes(event.campaign_id, budget, event.price_milli, now)
        writes.append(self.spend.stats_write(event.campaign_id, event.kind, event.price_milli, billed, now))
        if event.kind == IMPRESSION and event.user_key:
            writes += self.users.cap_writes(event.user_key, event.campaign_id, now, event.reserved)
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=writes)
                return Outcome.CHARGED if billed else Outcome.COUNTED
            except self.client.exceptions.TransactionCanceledException as exc:
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if reasons[:1] == ["ConditionalCheckFailed"]:
                    return None
                if billed and "ConditionalCheckFailed" in reasons[1:3]:
                    return _REFUSED
                # Another transaction on a hot campaign's counters at the same moment (TransactionConflict):
                # tried again here after a short random wait, rather than after the queue's visibility
                # timeout; the last try's failure fails the message, which the queue retries.
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, CONFLICT_BACKOFF_S * (2**attempt)))
        raise AssertionError("unreachable")

    def _event_put(self, event: AdEvent, now: datetime, billed: bool) -> dict[str, Any]:
        expires = int(event.expires_at + EVENT_RECORD_GRACE.total_seconds())
        return {
            "Put": {
                "TableName": self.table,
                "Item": {
                    "pk": {"S": f"EVENT#{event.event_id}"},
                    "sk": {"S": "EVENT"},
                    "kind": {"S": event.kind},
                    "campaign_id": {"S": event.campaign_id},
                    "price_milli": {"N": str(event.price_milli if billed else 0)},
                    "counted_at": {"S": now.isoformat()},
                    "expires_at": {"N": str(expires)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
