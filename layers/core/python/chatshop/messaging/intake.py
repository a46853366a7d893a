"""Webhook intake: verify, keep, queue, answer. The work happens later, from the queue.

Meta's POST is checked against its signature over the raw bytes before anything is parsed. The raw
body is archived (Meta offers no way to fetch a past webhook), then each message and each status
becomes its own message on the inbound FIFO queue: grouped by conversation, deduplicated by its
WhatsApp id, so Meta's retries and duplicates are absorbed by the queue itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatshop.platform.errors import BadRequest, Forbidden, PayloadTooLarge, Unauthorized
from chatshop.platform.ttl_cache import TTLCache

from .channel_store import ChannelStore
from .inbound_queue import InboundQueue, QueuedUnit
from .webhook import WebhookFormatError, handshake_challenge, split_webhook, verify_signature
from .webhook_archive import WebhookArchive
from .webhook_secrets import WebhookSecrets

MAX_WEBHOOK_BYTES = 3 * 1024 * 1024
ROUTE_CACHE_S = 60
_routes: TTLCache[str] = TTLCache(maxsize=4096, ttl_s=ROUTE_CACHE_S)


@dataclass(frozen=True)
class IntakeResult:
    archived_key: str
    queued: int
    unrouted: int
    unreadable: bool


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
) -> IntakeResult:
    if len(raw_body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLarge(f"Webhook bodies are limited to {MAX_WEBHOOK_BYTES} bytes.")
    if not verify_signature(raw_body, signature, secrets.app_secret):
        raise Unauthorized("The X-Hub-Signature-256 header does not match the body.")
    archived_key = archive.keep(raw_body)
    try:
        units = split_webhook(raw_body)
    except WebhookFormatError:
        # Signed by Meta but not understood: kept in the archive, answered, never retried forever.
        return IntakeResult(archived_key, 0, 0, True)
    routed, unrouted = [], 0
    for unit in units:
        shop_id = shop_for_number(channels, unit.phone_number_id)
        if shop_id is None:
            unrouted += 1
            continue
        routed.append(QueuedUnit(unit=unit, shop_id=shop_id, archived_key=archived_key))
    queue.send_all(routed)
    return IntakeResult(archived_key, len(routed), unrouted, False)


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
