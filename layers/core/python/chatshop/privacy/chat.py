"""Consent from the shop's chat: the hook the assistant calls when a customer gives or withdraws it.

The customer's ad user key is derived from their number (``chatshop.ads.users.chat_user_key``), so
what they choose in the chat holds for the same pseudonym the ad events of chat traffic carry; the
number itself is never stored with the consent. The wording is the sentence the customer answered,
in the language they read it in.
"""

from __future__ import annotations

from datetime import datetime

from chatshop.ads.users import chat_user_key

from .consent import ConsentChange, ConsentRecord, ConsentState
from .consent_store import ConsentStore


def record_chat_consent(
    store: ConsentStore,
    user_key_secret: bytes,
    wa_id: str,
    state: ConsentState,
    wording: str,
    now: datetime,
    language: str | None = None,
) -> ConsentRecord:
    change = ConsentChange(
        purpose="personalised_ads", state=state, wording=wording, source="whatsapp", language=language
    )
    return store.record(chat_user_key(wa_id, user_key_secret), change, now)
