"""Offers to the customers who asked for them: a shop's marketing template, sent by a worker a page
of customers at a time through the outbound queue and its sender (so Meta's throughput limits and
retries hold for offers as for every message), and counted.

Who gets the offer, and who does not and why:

- only customers opted in (:mod:`chatshop.recruiting.consent`) when their page is read;
- never a US number (+1 but Canada and the other countries of the North American plan): Meta
  refuses marketing templates to them since April 2025, so they are skipped, not sent to fail;
- at most one offer per customer per the shop's ``marketing_interval_hours``, held by a conditional
  claim on the customer's consent, so two broadcasts at once cannot both reach them;
- after Meta refused a customer's last offer for its per-user marketing limit (131049), the wait
  before the next one doubles with each refusal in a row (backed off), and the refusal is counted
  as a failure with its reason.

Every customer considered is counted once, in one of sent / failed / skipped / pending (the sender
has not settled the message yet), so the counts add up to the total.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from chatshop.messaging.outbound import TemplateMessage
from chatshop.messaging.records import OutboundRecord
from chatshop.platform.errors import Conflict, NotFound
from chatshop.shops.domain import Shop

from .broadcast_queue import BroadcastQueue
from .broadcast_store import BroadcastStore
from .consent_store import ConsentStore
from .domain import (
    SKIP_INTERVAL,
    SKIP_META_LIMIT,
    SKIP_OPTED_OUT,
    SKIP_US_NUMBER,
    Broadcast,
    BroadcastCounts,
    BroadcastCreate,
    BroadcastJob,
    Consent,
)

PAGE = 100
META_MARKETING_LIMIT = 131049
# Doubling stops here: 2**5 intervals (32 days at the default 24 hours) between offers at most.
MAX_STRIKES = 5
_SENT = frozenset({"accepted", "sent", "delivered", "read"})
_PENDING = frozenset({"queued", "retrying", "sending"})

# Area codes of the North American numbering plan (+1) outside the United States and its
# territories: Canada and the Caribbean countries. Every other +1 number is a US one.
_NON_US_AREA_CODES = (
    "204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438 450 "
    "460 468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 780 782 "
    "807 819 825 867 873 879 902 905 942 "
    "242 246 264 268 284 345 441 473 649 658 664 721 758 767 784 809 829 849 868 869 876"
)
NON_US_AREA_CODES = frozenset(_NON_US_AREA_CODES.split())


class Templates(Protocol):
    def is_marketing(self, shop_id: str, name: str, language: str) -> bool:
        """Whether ``name`` in ``language`` is a marketing template approved for the shop."""


class Outbox(Protocol):
    def send(self, record: OutboundRecord) -> None:
        """Store the message once and queue it; one stored before is queued again only if unsent."""


class SentMessages(Protocol):
    def outbound(self, outbound_id: str) -> OutboundRecord | None: ...

    def outbound_many(self, outbound_ids: Sequence[str]) -> dict[str, OutboundRecord]: ...


def is_us_number(wa_id: str) -> bool:
    digits = wa_id.lstrip("+")
    return len(digits) == 11 and digits.startswith("1") and digits[1:4] not in NON_US_AREA_CODES


def start_broadcast(
    store: BroadcastStore,
    queue: BroadcastQueue,
    templates: Templates,
    shop: Shop,
    request: BroadcastCreate,
    now: datetime,
) -> Broadcast:
    if not templates.is_marketing(shop.id, request.template, request.language):
        # 409, not 422: the request is well formed; the shop's account has no such approved template.
        raise Conflict(
            f"{request.template!r} in {request.language!r} is not a marketing template approved for the "
            "shop's WhatsApp Business Account (WhatsApp Manager)."
        )
    broadcast = Broadcast(
        id=uuid.uuid4().hex,
        shop_id=shop.id,
        template=request.template,
        language=request.language,
        parameters=list(request.parameters),
        status="queued",
        created_at=now,
    )
    store.create(broadcast, shop.marketing_interval_hours)
    queue.send(BroadcastJob(shop_id=shop.id, broadcast_id=broadcast.id))
    return broadcast


def run_page(
    store: BroadcastStore,
    consents: ConsentStore,
    queue: BroadcastQueue,
    outbox: Outbox,
    sent: SentMessages,
    job: BroadcastJob,
    now: datetime,
) -> int:
    """Consider one page of the shop's opted-in customers and queue the next page; how many it
    considered. Handled again (the queue delivers at least once), it decides nobody twice."""
    found = store.get(job.shop_id, job.broadcast_id)
    if found is None:
        return 0
    broadcast, interval_hours = found
    if broadcast.status == "done":
        return 0
    if broadcast.status == "queued":
        store.set_status(job.shop_id, job.broadcast_id, "sending")
    page, cursor = consents.opted_in(job.shop_id, PAGE, job.cursor)
    for consent in page:
        _consider(store, consents, outbox, sent, broadcast, timedelta(hours=interval_hours), consent, now)
    if cursor is not None:
        queue.send(job.model_copy(update={"cursor": cursor, "page": job.page + 1}))
    else:
        store.set_status(job.shop_id, job.broadcast_id, "done", finished_at=now)
    return len(page)


def _consider(
    store: BroadcastStore,
    consents: ConsentStore,
    outbox: Outbox,
    sent: SentMessages,
    broadcast: Broadcast,
    interval: timedelta,
    consent: Consent,
    now: datetime,
) -> None:
    number, customer = consent.phone_number_id, consent.customer
    outbound_id = offer_id(broadcast.id, number, customer)
    decided = store.outcome(broadcast.id, number, customer)
    if decided is not None:
        if decided.get("decision") == "queued":
            outbox.send(_offer(broadcast, consent, outbound_id, now))  # queued again only if unsent
        return
    if is_us_number(customer):
        store.record_outcome(broadcast.id, number, customer, "skipped", reason=SKIP_US_NUMBER)
        return
    strikes = _strikes(consent, sent, broadcast.id)
    wait = interval * 2 ** min(strikes, MAX_STRIKES)
    if not consents.claim_offer(consent, broadcast.id, outbound_id, now, wait, strikes):
        current = consents.get(consent.shop_id, number, customer)
        if current is None or current.status != "opted_in":
            reason = SKIP_OPTED_OUT
        else:
            reason = SKIP_META_LIMIT if strikes else SKIP_INTERVAL
        store.record_outcome(broadcast.id, number, customer, "skipped", reason=reason)
        return
    outbox.send(_offer(broadcast, consent, outbound_id, now))
    store.record_outcome(broadcast.id, number, customer, "queued", outbound_id=outbound_id)


def _strikes(consent: Consent, sent: SentMessages, broadcast_id: str) -> int:
    """Meta's per-user marketing refusals in a row, counting the customer's last offer's fate."""
    last = consent.last_outbound_id
    if last is None or last.startswith(f"offer-{broadcast_id}-"):
        return consent.limit_strikes
    record = sent.outbound(last)
    if record is None or record.status in _PENDING:
        return consent.limit_strikes
    if record.status == "failed" and record.error_code == META_MARKETING_LIMIT:
        return consent.limit_strikes + 1
    return 0 if record.status in _SENT else consent.limit_strikes


def offer_id(broadcast_id: str, phone_number_id: str, customer: str) -> str:
    # The customer's number is not in the id: outbound ids are logged (as digests) and shown.
    digest = hashlib.sha256(f"{phone_number_id}#{customer}".encode()).hexdigest()[:20]
    return f"offer-{broadcast_id}-{digest}"


def _offer(broadcast: Broadcast, consent: Consent, outbound_id: str, now: datetime) -> OutboundRecord:
    components: tuple[dict[str, Any], ...] = ()
    if broadcast.parameters:
        parameters = [{"type": "text", "text": value} for value in broadcast.parameters]
        components = ({"type": "body", "parameters": parameters},)
    message = TemplateMessage(name=broadcast.template, language=broadcast.language, components=components)
    return OutboundRecord(
        id=outbound_id,
        shop_id=broadcast.shop_id,
        phone_number_id=consent.phone_number_id,
        to=consent.customer,
        message=message.model_dump(mode="json", exclude_none=True),
        created_at=now,
    )


def broadcast_view(store: BroadcastStore, sent: SentMessages, shop: Shop, broadcast_id: str) -> Broadcast:
    found = store.get(shop.id, broadcast_id)
    if found is None:
        raise NotFound(f"No broadcast {broadcast_id}.")
    broadcast, _interval = found
    return broadcast.model_copy(update={"counts": counts(store.outcomes(broadcast_id), sent)})


def counts(outcomes: Iterable[dict[str, str]], sent: SentMessages) -> BroadcastCounts:
    outcomes = list(outcomes)
    queued = [o["outbound_id"] for o in outcomes if o.get("decision") == "queued" and "outbound_id" in o]
    records = sent.outbound_many(queued)
    skipped = Counter(o.get("reason", "unknown") for o in outcomes if o.get("decision") == "skipped")
    failed: Counter[str] = Counter()
    n_sent = pending = 0
    for outbound_id in queued:
        record = records.get(outbound_id)
        if record is None or record.status in _PENDING:
            pending += 1
        elif record.status == "failed":
            failed[str(record.error_code) if record.error_code is not None else "unknown"] += 1
        else:
            n_sent += 1
    return BroadcastCounts(
        total=len(outcomes),
        sent=n_sent,
        failed=sum(failed.values()),
        skipped=sum(skipped.values()),
        pending=pending,
        failed_reasons=dict(failed),
        skipped_reasons=dict(skipped),
    )
