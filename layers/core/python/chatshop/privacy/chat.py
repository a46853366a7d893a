"""Consent from the shop's chat: the hook the assistant calls when a customer gives or withdraws it.

The customer's ad user key is derived from their number (``chatshop.ads.users.chat_user_key``), so
what they choose in the chat holds for the same pseudonym the ad events of chat traffic carry; the
number itself is never stored with the consent. The wording is the sentence the customer answered,
in the language they read it in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

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
    country: str,
    language: str | None = None,
) -> ConsentRecord:
    """``country``: the shop's, whose chat it is (the customer's own country is not known); the
    shop's home is the region its chat is handled in, so the consent stays there."""
    change = ConsentChange(
        purpose="personalised_ads",
        state=state,
        wording=wording,
        source="whatsapp",
        country=country,
        language=language,
    )
    return store.record(chat_user_key(wa_id, user_key_secret), change, now)


class ChatConsents:
    """The assistant's port for consent to personalised ads (``chatshop.assistant.dialogue.AdConsents``)."""

    def __init__(self, store: ConsentStore, user_key_secret: Callable[[], bytes]) -> None:
        self._store = store
        # A callable: the secret is read only when a customer makes a choice.
        self._secret = user_key_secret

    def record(
        self,
        wa_id: str,
        state: Literal["given", "withdrawn"],
        wording: str,
        at: datetime,
        language: str,
        country: str,
    ) -> None:
        # The assistant's pt_BR is the consent record's pt-BR (a BCP 47 tag).
        record_chat_consent(
            self._store, self._secret(), wa_id, state, wording, at, country, language.replace("_", "-")
        )
