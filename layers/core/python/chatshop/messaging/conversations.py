"""The inbound worker's logic: keep what the customer sent, advance what Meta says of ours, reply.

Each step is idempotent on its own business key (the WhatsApp message id, our outbound id), so a
unit delivered again, or a worker that crashed half way, neither loses nor doubles anything:
every step runs again and does only what is still undone. The conversation itself (menus, search,
carts) is built on this; for now a received message gets an acknowledgement, so the loop can be
seen end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .conversation_store import ConversationStore
from .inbound import InboundMessage, StatusUpdate, UnparsedPayload, parse_unit
from .media_fetch import MediaFetcher
from .outbound_queue import OutboundQueue
from .records import OutboundRecord, SendJob

ACKNOWLEDGEMENT = "Thanks for your message! The shop will get back to you here shortly."
# Kinds a person writes to the shop; reactions, system notices and the like get no reply.
_ANSWERED_TYPES = frozenset(
    {"text", "image", "interactive", "button", "order", "location", "document", "audio", "video"}
)

Outcome = Literal["stored", "duplicate", "status", "status-ignored", "kept-unparsed"]


@dataclass(frozen=True)
class UnitResult:
    outcome: Outcome
    reply_id: str | None = None


def handle_unit(
    store: ConversationStore, outbox: OutboundQueue, media: MediaFetcher, body: dict[str, Any]
) -> UnitResult:
    shop_id = body.get("shop_id")
    parsed = parse_unit(body)
    if isinstance(parsed, UnparsedPayload) or not shop_id:
        reason = parsed.reason if isinstance(parsed, UnparsedPayload) else "no shop for the unit"
        store.keep_unparsed(shop_id, reason, body)
        return UnitResult("kept-unparsed")
    if isinstance(parsed, StatusUpdate):
        return UnitResult("status" if store.apply_status(parsed) else "status-ignored")
    return _handle_message(store, outbox, media, shop_id, parsed)


def _handle_message(
    store: ConversationStore,
    outbox: OutboundQueue,
    media: MediaFetcher,
    shop_id: str,
    message: InboundMessage,
) -> UnitResult:
    summary = _summary(message)
    if message.media is not None:
        # Meta's download URL lives five minutes: fetch now, keep it in our bucket.
        summary["media_key"] = media.keep(message.phone_number_id, message.media.id)
    first = store.record_inbound(
        shop_id, message.id, message.phone_number_id, message.customer, message.timestamp, summary
    )
    store.touch_customer(message.phone_number_id, message.customer, message.customer_name, message.timestamp)
    if message.type not in _ANSWERED_TYPES:
        return UnitResult("stored" if first else "duplicate")
    reply = OutboundRecord(
        id=f"ack-{message.id}",  # one acknowledgement per inbound message, however often it is handled
        shop_id=shop_id,
        phone_number_id=message.phone_number_id,
        to=message.customer,
        message={"type": "text", "body": ACKNOWLEDGEMENT},
        reply_to=message.id,
        created_at=datetime.now(UTC),
    )
    if store.create_outbound(reply):
        outbox.send(SendJob(outbound_id=reply.id))
    elif (current := store.outbound(reply.id)) is not None and current.status == "queued":
        # Handled before, maybe cut short before its job was queued: queued again while nothing was
        # sent (the sender claims a record before it sends, so a second job is harmless).
        outbox.send(SendJob(outbound_id=reply.id))
    return UnitResult("stored" if first else "duplicate", reply.id)


def _summary(message: InboundMessage) -> dict[str, Any]:
    return message.model_dump(mode="json", exclude_none=True, exclude={"phone_number_id", "customer"})
