"""Recruiting in the conversation over in-memory fakes: where a conversation came from, the opt-in
button, STOP said once, WhatsApp's own "Stop promotions"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from chatshop.assistant import offers
from chatshop.assistant.dialogue import Assistant
from chatshop.assistant.i18n import translator
from chatshop.messaging.inbound import InboundMessage
from chatshop.recruiting.domain import Consent, Link
from chatshop.recruiting.sources import Source
from chatshop.shops.catalog import product_id_for
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
    message,
    product,
    state,
)


@dataclass
class FakeRecruits:
    links: dict[str, Link] = field(default_factory=dict)
    consents: dict[tuple[str, str, str], Consent] = field(default_factory=dict)
    counted: dict[str, str] = field(default_factory=dict)

    def link(self, shop_id: str, code: str) -> Link | None:
        return self.links.get(code)

    def count_conversation(
        self, shop: Shop, conversation_key: str, source: Source, started_at: datetime
    ) -> None:
        self.counted.setdefault(conversation_key, source.key)

    def consent(self, shop_id: str, phone_number_id: str, customer: str) -> Consent | None:
        return self.consents.get((shop_id, phone_number_id, customer))

    def change_consent(self, shop_id, phone_number_id, customer, status, via, at, words=None) -> bool:
        key = (shop_id, phone_number_id, customer)
        current = self.consents.get(key)
        if current is not None and current.status == status:
            return False
        fields = current.model_dump() if current else {}
        if status == "opted_in":
            fields |= {"opted_in_at": at, "opted_in_words": words}
        fields |= {"shop_id": shop_id, "phone_number_id": phone_number_id, "customer": customer}
        self.consents[key] = Consent(**{**fields, "status": status, "via": via, "changed_at": at})
        return True


SOCK = product(1, "Apparel > Socks").model_copy(
    update={
        "id": product_id_for("s1", "SOCK-1"),
        "retailer_id": "SOCK-1",
        "title": "Merino socks",
        "link": "https://trail.example/p/sock-1",
    }
)


@pytest.fixture
def world():
    shop = Shop(
        id="s1",
        merchant_id="m1",
        name="Trail Threads",
        description="",
        country="US",
        currency="USD",
        status="active",
        timezone="America/New_York",
        created_at=START,
        updated_at=START,
    )
    clock, states, replies, recruits = Clock(), FakeStates(), FakeReplies(), FakeRecruits()
    assistant = Assistant(
        states, FakeCatalogs(shop, [SOCK]), replies, FakeQuestions(), clock=clock, recruits=recruits
    )
    return assistant, states, replies, recruits, clock


_count = 0


def sends(assistant: Assistant, clock: Clock, **fields) -> str | None:
    global _count
    _count += 1
    data = {
        "id": f"wamid.offers-{_count}",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "timestamp": clock.now,
        "type": "text",
        **fields,
    }
    return assistant.on_message("s1", InboundMessage.model_validate(data)).reply_id


def test_an_ads_first_message_records_the_ad_and_greets_with_its_product(world):
    assistant, states, replies, recruits, clock = world
    referral = {
        "source_type": "ad",
        "source_id": "6012",
        "source_url": "https://www.trail.example/p/sock-1/",
        "headline": "Warm socks",
        "ctwa_clid": "ARAk-click",
    }
    # When the first message comes with the ad's referral
    reply = message(replies, sends(assistant, clock, text="Hi, is this available?", referral=referral))
    # Then the greeting names the product with its price and a button shows it
    assert "Merino socks" in reply.body and "$10.00" in reply.body
    assert reply.buttons[0].id == f"show:{SOCK.id}"
    # And the conversation keeps the ad (with its click id), first met now, counted once
    source, first = state(states).acquisition()
    assert source == {
        "kind": "ad",
        "id": "6012",
        "url": referral["source_url"],
        "headline": "Warm socks",
        "ctwa_clid": "ARAk-click",
        "retailer_id": "SOCK-1",
    }
    assert first == START
    assert recruits.counted == {f"{NUMBER}#{CUSTOMER}": "ad:6012"}
    # A later message does not change where the conversation came from
    clock.now += timedelta(days=1)
    sends(assistant, clock, text="hello", referral={**referral, "source_id": "other"})
    assert state(states).acquisition()[0]["id"] == "6012"


def test_a_links_code_attributes_the_conversation_and_an_unknown_code_is_organic(world):
    assistant, states, replies, recruits, clock = world
    recruits.links["K7QM2ZPA"] = Link(
        id="K7QM2ZPA",
        shop_id="s1",
        label="Flyer",
        retailer_id="SOCK-1",
        url="https://wa.me/1",
        prefilled_text="x",
        created_at=START,
    )
    reply = message(replies, sends(assistant, clock, text="Hi! I would like to know more. [k7qm2zpa]"))
    assert "Merino socks" in reply.body
    assert state(states).acquisition()[0] == {
        "kind": "link",
        "id": "K7QM2ZPA",
        "label": "Flyer",
        "retailer_id": "SOCK-1",
    }


def test_opting_in_takes_the_button_and_keeps_the_words_shown(world):
    assistant, _states, replies, recruits, clock = world
    prompt = message(replies, sends(assistant, clock, text="ofertas"))
    assert [b.id for b in prompt.buttons] == [offers.OFFERS_YES, offers.OFFERS_NO]
    done = message(
        replies,
        sends(
            assistant,
            clock,
            type="interactive",
            button={"kind": "button_reply", "id": offers.OFFERS_YES, "title": "Sí, enviar ofertas"},
        ),
    )
    consent = recruits.consents[("s1", NUMBER, CUSTOMER)]
    assert consent.status == "opted_in" and consent.via == "button" and consent.opted_in_at == START
    t = translator("en")  # a single word says no language: the shop's
    assert consent.opted_in_words == offers.opt_in_words(t, "Trail Threads")
    assert done.body == t.text(offers.OFFERS_ON, shop="Trail Threads")
    # Asked again, the prompt offers the way out instead
    again = message(replies, sends(assistant, clock, text="offers"))
    assert [b.id for b in again.buttons] == [offers.OFFERS_STOP]


@pytest.mark.parametrize("word", ["STOP", "baja", "Parar", "unsubscribe", "बंद करो", "Stop promotions!"])
def test_stop_opts_out_at_once_and_is_confirmed_once(world, word):
    assistant, _states, replies, recruits, clock = world
    sends(assistant, clock, type="interactive", button={"kind": "button_reply", "id": offers.OFFERS_YES})
    # When the customer writes the word
    first = sends(assistant, clock, text=word)
    # Then they are opted out, told once; the same word again changes nothing and says nothing
    assert recruits.consents[("s1", NUMBER, CUSTOMER)].status == "opted_out"
    assert "Trail Threads" in message(replies, first).body
    assert sends(assistant, clock, text=word) is None
    assert recruits.consents[("s1", NUMBER, CUSTOMER)].via == "keyword"


def test_stop_works_while_a_person_holds_the_conversation(world):
    assistant, states, replies, recruits, clock = world
    sends(assistant, clock, text="talk to a person")
    assert state(states).holder == "waiting"
    assert sends(assistant, clock, text="stop") is not None
    assert recruits.consents[("s1", NUMBER, CUSTOMER)].status == "opted_out"


def test_whatsapps_stop_promotions_opts_out_and_resume_restores_a_button_opt_in(world):
    assistant, _states, _replies, recruits, clock = world
    sends(assistant, clock, type="interactive", button={"kind": "button_reply", "id": offers.OFFERS_YES})
    assert assistant.on_preference("s1", NUMBER, CUSTOMER, "stop").outcome == "offers-out"
    assert recruits.consents[("s1", NUMBER, CUSTOMER)].status == "opted_out"
    assert assistant.on_preference("s1", NUMBER, CUSTOMER, "stop").outcome == "offers-already-out"
    assert assistant.on_preference("s1", NUMBER, CUSTOMER, "resume").outcome == "offers-resumed"
    assert recruits.consents[("s1", NUMBER, CUSTOMER)].status == "opted_in"
    # "resume" never opts in a customer who did not tap the button
    assert assistant.on_preference("s1", NUMBER, "15550002222", "resume").outcome == "preference-ignored"
