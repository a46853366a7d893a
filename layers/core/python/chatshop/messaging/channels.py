"""Connecting a shop to its WhatsApp Business phone number.

The access token Meta issues for the number is a secret: it is stored encrypted (an SSM
SecureString), never returned and never logged; the channel record keeps only where it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chatshop.platform.errors import Conflict, NotFound

from .channel_models import WhatsAppChannel, WhatsAppChannelConnect
from .channel_store import ChannelStore, NumberTaken
from .channel_webhooks import WebhookOverride
from .token_vault import TokenVault


def connect_whatsapp(
    store: ChannelStore,
    vault: TokenVault,
    shop_id: str,
    request: WhatsAppChannelConnect,
    *,
    webhooks: WebhookOverride | None,
) -> WhatsAppChannel:
    """Connect (or reconnect) the shop's number; a number already serving another shop is a 409.

    Meta is told first to post the number's business account's webhooks to this region
    (``webhooks``), so a refusal there leaves nothing written; None only where Meta already posts
    every webhook here (the local demo's emulator).
    """
    now = datetime.now(UTC)
    existing = store.for_shop(shop_id)
    holder = store.for_number(request.phone_number_id)
    if holder is not None and holder.shop_id != shop_id:
        # Before Meta is asked anything: another shop's number is not this shop's to point anywhere.
        raise _taken(request.phone_number_id)
    if webhooks is not None:
        webhooks.point_home(request.waba_id, request.access_token.get_secret_value())
    channel = WhatsAppChannel(
        shop_id=shop_id,
        phone_number_id=request.phone_number_id,
        waba_id=request.waba_id,
        display_phone_number=request.display_phone_number,
        catalog_id=request.catalog_id,
        dataset_id=request.dataset_id,
        connected_at=existing.connected_at
        if existing and existing.phone_number_id == request.phone_number_id
        else now,
        updated_at=now,
    )
    try:
        # The record first: a token must never be written over the number of another shop.
        store.save(channel, replaces=existing.phone_number_id if existing else None)
    except NumberTaken:
        raise _taken(request.phone_number_id) from None
    vault.store(request.phone_number_id, request.access_token.get_secret_value())
    return channel


def _taken(phone_number_id: str) -> Conflict:
    return Conflict(
        f"Phone number id {phone_number_id} is connected to another shop.",
        details={"field": "phone_number_id"},
    )


def whatsapp_channel(store: ChannelStore, shop_id: str) -> WhatsAppChannel:
    channel = store.for_shop(shop_id)
    if channel is None:
        raise NotFound("This shop has no WhatsApp channel.")
    return channel
