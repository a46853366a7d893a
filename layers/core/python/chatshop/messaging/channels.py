"""Connecting a shop to its WhatsApp Business phone number.

The access token Meta issues for the number is a secret: it is stored encrypted (an SSM
SecureString), never returned and never logged; the channel record keeps only where it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chatshop.platform.errors import Conflict, NotFound

from .channel_models import WhatsAppChannel, WhatsAppChannelConnect
from .channel_store import ChannelStore, NumberTaken
from .token_vault import TokenVault


def connect_whatsapp(
    store: ChannelStore, vault: TokenVault, shop_id: str, request: WhatsAppChannelConnect
) -> WhatsAppChannel:
    """Connect (or reconnect) the shop's number; a number already serving another shop is a 409."""
    now = datetime.now(UTC)
    existing = store.for_shop(shop_id)
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
        raise Conflict(
            f"Phone number id {request.phone_number_id} is connected to another shop.",
            details={"field": "phone_number_id"},
        ) from None
    vault.store(request.phone_number_id, request.access_token.get_secret_value())
    return channel


def whatsapp_channel(store: ChannelStore, shop_id: str) -> WhatsAppChannel:
    channel = store.for_shop(shop_id)
    if channel is None:
        raise NotFound("This shop has no WhatsApp channel.")
    return channel
