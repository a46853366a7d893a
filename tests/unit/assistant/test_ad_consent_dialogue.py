"""Consent to personalised ads in the conversation over in-memory fakes: asked in words in each
language, confirmed by a button, recorded with the words answered; asking alone records nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from chatshop.assistant import ad_consent
from chatshop.assistant.dialogue import Assistant
from chatshop.assistant.i18n import translator
from chatshop.messaging.inbound import InboundMessage
from chatshop.shops.domain import Shop

from .test_dialogue import (
    CUSTOMER,
    NUMBER,
    START,
    Clock,
    FakeCatalogs,
    FakeQuestions,
    FakeReplies,
    FakeStates,
)
from .test_dialogue import message as reply_of
from .test_offers_dialogue import SOCK


@dataclass
class FakeAdConsents:
    recorded: list[tuple[str, str, str, datetime, str]] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)

    def record(self, wa_id, state, wording, at, language, country) -> None:
        self.recorded.append((wa_id, state, wording, at, language))
        self.countries.append(country)


@pytest.fixture
def world():
    shop = Shop(
        id="s1", merchant_id="m1", name="Trail Threads", description="", country="US", currency="USD",
        status="active", timezone="America/New_York", created_at=START, updated_at=START,
    )  # fmt: skip
    clock, replies, consents = Clock(), FakeReplies(), FakeAdConsents()
    assistant = Assistant(
        FakeStates(), FakeCatalogs(shop, [SOCK]), replies, FakeQuestions(), clock=clock, ad_consents=consents
    )
    return assistant, replies, consents, clock


_count = 0


def sends(assistant: Assistant, clock: Clock, **fields) -> str | None:
    global _count
    _count += 1
    data = {
        "id": f"wamid.ads-{_count}",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "timestamp": clock.now,
        "type": "text",
        **fields,
    }
    return assistant.on_message("s1", InboundMessage.model_validate(data)).reply_id


def tap(assistant: Assistant, clock: Clock, button_id: str, title: str) -> str | None:
    button = {"kind": "button_reply", "id": button_id, "title": title}
    return sends(assistant, clock, type="interactive", button=button)


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("Stop personalised ads", "ask_off"),
        ("stop personalized ads!", "ask_off"),
        ("No quiero anuncios personalizados", "ask_off"),
        ("Não quero anúncios personalizados", "ask_off"),
        ("व्यक्तिगत विज्ञापन बंद करें", "ask_off"),
        ("Personalise my ads", "ask_on"),
        ("personalizar mis anuncios", "ask_on"),
        ("Personalizar meus anúncios", "ask_on"),
        ("मेरे विज्ञापन व्यक्तिगत करें", "ask_on"),
        ("Do you have personalised socks?", None),
        ("stop", None),
    ],
)
def test_the_words_in_each_language(words, kind):
    found = ad_consent.intent_of(
        InboundMessage.model_validate(
            {"id": "w", "phone_number_id": NUMBER, "customer": CUSTOMER, "timestamp": START, "type": "text",
             "text": words}
        )
    )  # fmt: skip
    assert (found.kind if found else None) == kind


def test_stopping_is_asked_confirmed_by_a_button_and_recorded_with_the_words_answered(world):
    assistant, replies, consents, clock = world
    t = translator("en")
    sends(assistant, clock, text="Hi")
    # When the customer asks to stop personalised ads
    prompt = reply_of(replies, sends(assistant, clock, text="Stop personalised ads"))
    # Then they are asked to confirm, and nothing is recorded yet
    assert prompt.body == t.text(ad_consent.ADS_OFF_PROMPT)
    assert [b.id for b in prompt.buttons] == [ad_consent.ADS_OFF, ad_consent.ADS_KEEP]
    assert consents.recorded == []
    # When they confirm
    done = reply_of(replies, tap(assistant, clock, ad_consent.ADS_OFF, prompt.buttons[0].title))
    # Then the withdrawal is recorded for their number with the sentence and button they answered
    assert done.body == t.text(ad_consent.ADS_OFF_DONE)
    assert consents.recorded == [(CUSTOMER, "withdrawn", ad_consent.wording(t, "off"), clock.now, "en")]
    # ... under the shop's country, which is what keeps it in the shop's home region
    assert consents.countries == ["US"]


def test_consent_is_given_in_the_customers_language_and_leaving_it_changes_nothing(world):
    assistant, replies, consents, clock = world
    t = translator("es", "US")
    sends(assistant, clock, text="Hola")
    prompt = reply_of(replies, sends(assistant, clock, text="Personalizar mis anuncios"))
    assert prompt.body == t.text(ad_consent.ADS_ON_PROMPT) and prompt.body != ad_consent.ADS_ON_PROMPT
    # "Leave it as it is" records nothing
    kept = reply_of(replies, tap(assistant, clock, ad_consent.ADS_KEEP, prompt.buttons[1].title))
    assert kept.body == t.text(ad_consent.ADS_KEPT) and consents.recorded == []
    # The yes button records consent, with the Spanish words shown
    tap(assistant, clock, ad_consent.ADS_ON, prompt.buttons[0].title)
    assert consents.recorded == [(CUSTOMER, "given", ad_consent.wording(t, "on"), clock.now, "es")]
