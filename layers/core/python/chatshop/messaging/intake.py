"""Webhook intake: verify, keep, queue, answer. The work happens later, from the queue.

Meta's POST is checked against its signature over the raw bytes before anything is parsed. A body
about this region's numbers is archived (Meta offers no way to fetch a past webhook), then each
message and each status becomes its own message on the inbound FIFO queue: grouped by conversation,
deduplicated by its WhatsApp id, so Meta's retries and duplicates are absorbed by the queue itself.

A body about no number of this region is another region's customers' data: it is not kept here but
relayed to the region that serves its numbers (see ``relay``); answered 503 when that region cannot
be reached, so Meta delivers it again, and 200 without keeping it when no region serves them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatshop.platform.errors import (
    BadRequest,
    Forbidden,
    Misdirected,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)
from chatshop.platform.ttl_cache import TTLCache

from .channel_store import ChannelStore
from .inbound_queue import InboundQueue, QueuedUnit
from .relay import WebhookRelay
from .webhook import WebhookFormatError, handshake_challenge, split_webhook, verify_signature
from .webhook_archive import WebhookArchive
from .webhook_secrets import WebhookSecrets

MAX_WEBHOOK_BYTES = 3 * 1024 * 1024
ROUTE_CACHE_S = 60
_routes: TTLCache[str] = TTLCache(maxsize=4096, ttl_s=ROUTE_CACHE_S)


@dataclass(frozen=True)
class IntakeResult:
    archived_key: str | None  # None: nothing kept here
    queued: int
    unrouted: int
    unreadable: bool
    relayed_to: str | None = None


def answer_handshake(params: Mapping[str, str], secrets: WebhookSecrets) -> str:
    challenge = handshake_challenge(params, secrets.verify_token)
    if challenge is None:
        raise Forbidden("The verify token or mode is wrong.")
    return challenge


def receive_webhook(
    raw_body: bytes,
    signature: str | None,
    secrets: WebhookSecrets,
    archive: WebhookArchive,
    channels: ChannelStore,
    queue: InboundQueue,
    relay: WebhookRelay | None = None,
    relayed_from: str | None = None,
) -> IntakeResult:
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"Webhook bodies are limited to {MAX_WEBHOOK_BYTES} bytes.")
    if not verify_signature(raw_body, signature, secrets.app_secret):
        raise Unauthorized("The X-Hub-Signature-256 header does not match the body.")
    try:
        units = split_webhook(raw_body)
    except WebhookFormatError:
        # Signed by Meta but not understood: kept in the archive, answered, never retried forever.
        return IntakeResult(archive.keep(raw_body), 0, 0, True)
    shops = [shop_for_number(channels, unit.phone_number_id) for unit in units]
    if units and not any(shops):
        return _not_ours(raw_body, signature or "", len(units), relay, relayed_from)
    archived_key = archive.keep(raw_body)
    routed = [
        QueuedUnit(unit=unit, shop_id=shop_id, archived_key=archived_key)
        for unit, shop_id in zip(units, shops, strict=True)
        if shop_id is not None
    ]
    queue.send_all(routed)
    return IntakeResult(archived_key, len(routed), len(units) - len(routed), False)


def _not_ours(
    raw_body: bytes, signature: str, units: int, relay: WebhookRelay | None, relayed_from: str | None
) -> IntakeResult:
    """A body about no number of this region: relayed on, never kept or queued here."""
    if relayed_from is not None:
        raise Misdirected("None of this webhook's numbers is served by this region.")
    if relay is not None and relay.has_peers:
        outcome = relay.relay(raw_body, signature)
        if outcome.region is not None:
            return IntakeResult(None, 0, 0, False, relayed_to=outcome.region)
        if outcome.failed:
            # Its region may be the one that could not be reached: Meta retries a non-200.
            raise Unavailable(
                f"The region of this webhook's numbers could not be reached ({', '.join(outcome.failed)})."
            )
    return IntakeResult(None, 0, units, False)


def shop_for_number(channels: ChannelStore, phone_number_id: str) -> str | None:
    """The shop a number serves. A warm function remembers a found number for a minute (a number
    moves between shops rarely, and every webhook needs this); an unknown one is asked each time,
    so a newly connected number is routed at once."""
    if not phone_number_id:
        return None
    key = (channels.identity, phone_number_id)
    shop_id = _routes.get(key)
    if shop_id is None:
        channel = channels.for_number(phone_number_id)
        if channel is None:
            return None
        shop_id = channel.shop_id
        _routes.put(key, shop_id)
    return shop_id


def require_body(raw_body: bytes | None) -> bytes:
    if not raw_body:
        raise BadRequest("A webhook body is required.")
    return raw_body
