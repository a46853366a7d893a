"""The inbound worker's logic: keep what the customer sent, advance what Meta says of ours, reply.

Each step is idempotent on its own business key (the WhatsApp message id, our outbound id), so a
unit delivered again, or a worker that crashed half way, neither loses nor doubles anything:
every step runs again and does only what is still undone. What the shop says back is a
:class:`Responder`'s (the assistant, ``chatshop.assistant.dialogue``); without one, a message gets
an acknowledgement and a photo goes to the photo search worker where it is deployed (this
function has no models to embed it), which answers it with the best matches.

This package speaks no language of its own: the assistant says the words and hands the photo
search the conversation's language. The acknowledgement below is only for a channel run without
an assistant (the inbound function always has one), so it stays in English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from .conversation_store import ConversationStore
from .inbound import InboundMessage, PreferenceUpdate, StatusUpdate, UnparsedPayload, parse_unit
from .media_fetch import MediaFetcher
from .outbound_queue import OutboundQueue
from .photo_queue import PhotoSearchJob, PhotoSearchQueue
from .records import OutboundRecord, SendJob

ACKNOWLEDGEMENT = "Thanks for your message! The shop will get back to you here shortly."
# Kinds a person writes to the shop; reactions, system notices and the like get no reply.
_ANSWERED_TYPES = frozenset(
    {"text", "image", "interactive", "button", "order", "location", "document", "audio", "video"}
)

Outcome = Literal["stored", "duplicate", "status", "status-ignored", "preference", "kept-unparsed"]


class Responder(Protocol):
    def __call__(
        self, shop_id: str, message: InboundMessage, search_photo: Callable[[str], str] | None
    ) -> str | None:
        """Answer a stored message; ``search_photo`` hands a photo to the photo search, to be
        answered in the language it is given (the conversation's), and says its answer's id (None
        where it is not deployed). The id of the reply, if any."""


@dataclass(frozen=True)
class UnitResult:
    outcome: Outcome
    reply_id: str | None = None


def handle_unit(
    store: ConversationStore,
    outbox: OutboundQueue,
    media: MediaFetcher,
    body: dict[str, Any],
    photos: PhotoSearchQueue | None = None,
    responder: Responder | None = None,
) -> UnitResult:
    """``photos``: where a customer's photo goes to be answered by search; None acknowledges it.
    ``responder``: who answers a message; None acknowledges it."""
    shop_id = body.get("shop_id")
    parsed = parse_unit(body)
    if isinstance(parsed, UnparsedPayload) or not shop_id:
        reason = parsed.reason if isinstance(parsed, UnparsedPayload) else "no shop for the unit"
        store.keep_unparsed(shop_id, reason, body)
        return UnitResult("kept-unparsed")
    if isinstance(parsed, StatusUpdate):
        if body.get("archived_key"):
            # A status names the customer too: its archive must be found when they are erased.
            store.index_archive(parsed.phone_number_id, parsed.customer, body["archived_key"])
        return UnitResult("status" if store.apply_status(parsed) else "status-ignored")
    if isinstance(parsed, PreferenceUpdate):
        # The assistant applies it (chatshop.assistant.worker); the channel alone has no offers.
        return UnitResult("preference")
    return _handle_message(store, outbox, media, photos, responder, shop_id, parsed, body.get("archived_key"))


def _handle_message(
    store: ConversationStore,
    outbox: OutboundQueue,
    media: MediaFetcher,
    photos: PhotoSearchQueue | None,
    responder: Responder | None,
    shop_id: str,
    message: InboundMessage,
    archived_key: str | None = None,
) -> UnitResult:
    summary = _summary(message)
    if message.media is not None:
        # Meta's download URL lives five minutes: fetch now, keep it in our bucket.
        summary["media_key"] = media.keep(message.phone_number_id, message.media.id)
    first = store.record_inbound(
        shop_id,
        message.id,
        message.phone_number_id,
        message.customer,
        message.timestamp,
        summary,
        archive_key=archived_key,
    )
    store.touch_customer(message.phone_number_id, message.customer, message.customer_name, message.timestamp)
    outcome: Outcome = "stored" if first else "duplicate"
    if message.type not in _ANSWERED_TYPES:
        return UnitResult(outcome)
    media_key = summary.get("media_key")
    search_photo = None
    if photos is not None and message.type == "image" and media_key:
        search_photo = lambda language: _search_photo(  # noqa: E731
            store, outbox, photos, shop_id, message, media_key, language
        )
    if responder is not None:
        return UnitResult(outcome, responder(shop_id, message, search_photo))
    if search_photo is not None:
        # No assistant to say which language the conversation speaks: the worker uses the shop's.
        return UnitResult(outcome, search_photo(None))
    reply = OutboundRecord(
        id=f"ack-{message.id}",  # one acknowledgement per inbound message, however often it is handled
        shop_id=shop_id,
        phone_number_id=message.phone_number_id,
        to=message.customer,
        message={"type": "text", "body": ACKNOWLEDGEMENT},
        reply_to=message.id,
        created_at=datetime.now(UTC),
    )
    queue_reply(store, outbox, reply)
    return UnitResult(outcome, reply.id)


def queue_reply(store: ConversationStore, outbox: OutboundQueue, reply: OutboundRecord) -> None:
    """Store the reply once and queue its send; a reply stored before is queued again only if unsent."""
    if store.create_outbound(reply):
        outbox.send(SendJob(outbound_id=reply.id))
    elif (current := store.outbound(reply.id)) is not None and current.status == "queued":
        # Handled before, maybe cut short before its job was queued: queued again while nothing was
        # sent (the sender claims a record before it sends, so a second job is harmless).
        outbox.send(SendJob(outbound_id=reply.id))


def _search_photo(
    store: ConversationStore,
    outbox: OutboundQueue,
    photos: PhotoSearchQueue,
    shop_id: str,
    message: InboundMessage,
    media_key: str,
    language: str | None,
) -> str:
    """Hand the photo to the search worker, unless it answered it already; the id of the answer."""
    job = PhotoSearchJob(
        shop_id=shop_id,
        phone_number_id=message.phone_number_id,
        customer=message.customer,
        media_key=media_key,
        reply_to=message.id,
        language=language,
    )
    answered = store.outbound(job.reply_id)
    if answered is None:
        # Queued again when the message comes again: the worker stores its answer only once.
        photos.send(job)
    elif answered.status == "queued":
        outbox.send(SendJob(outbound_id=answered.id))
    return job.reply_id


def _summary(message: InboundMessage) -> dict[str, Any]:
    return message.model_dump(mode="json", exclude_none=True, exclude={"phone_number_id", "customer"})
