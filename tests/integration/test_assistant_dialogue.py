"""Conversations with the shop assistant over the real stack, as a customer has them: signed webhooks
in, the assistant's replies out through the Graph API emulator, an agent in the merchant inbox."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from chatshop.assistant import phrases
from chatshop.assistant.i18n import translator

from .conftest import Api, add_product, open_shop, sign_up, usd, wait_for
from .whatsapp import FIXTURES, post_webhook, replies_to, said, sign

pytestmark = pytest.mark.integration

# The question worker loads MiniLM on its first question.
ANSWER_TIMEOUT_S = 120

CATALOG = [
    ("SOCK-MER-BLU-M", "Merino socks, blue, M", 1600, "Apparel > Socks", "in stock"),
    ("SOCK-MER-GRY-L", "Merino socks, grey, L", 1800, "Apparel > Socks", "in stock"),
    ("BEANIE-BLU", "Wool beanie, blue", 2500, "Accessories > Hats", "in stock"),
    ("TEE-WHT-M", "Cotton tee, white, M", 2000, "Apparel > Tops", "in stock"),
    ("JKT-DOWN-BLK-M", "Down jacket, black, M", 15000, "Apparel > Jackets", "in stock"),
    ("JKT-FLC-BLU-M", "Fleece jacket, blue, M", 5900, "Apparel > Jackets", "in stock"),
    ("JKT-RAIN-YLW-L", "Rain jacket, yellow, L", 9500, "Apparel > Jackets", "out of stock"),
    ("BELT-BRN", "Leather belt, brown", 3500, "Accessories > Belts", "in stock"),
]
FAQ = [
    ("Do you ship to Canada?", "Yes, we ship to Canada in 5 to 8 business days."),
    ("What is your return policy?", "Returns are free within 30 days."),
]


@pytest.fixture(scope="module")
def assistant_shop(app_stack) -> dict[str, Any]:
    """A shop with a small catalog, an FAQ and a WhatsApp number of its own."""
    merchant = sign_up(Api(app_stack.gateway.url), "Assistant Shop")
    shop = open_shop(merchant, name="Cold Feet Outfitters")
    for retailer_id, title, cents, category, availability in CATALOG:
        reply = add_product(
            merchant,
            shop["id"],
            retailer_id,
            title=title,
            price=usd(cents),
            category=category,
            availability=availability,
        )
        assert reply.status == 201, reply.raw
    entries = [{"question": q, "answer": a} for q, a in FAQ]
    assert merchant.request("PUT", f"/shops/{shop['id']}/faq", {"entries": entries}).status == 200
    number = "1" + str(secrets.randbelow(10**14)).zfill(14)
    connected = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": number,
            "waba_id": "102290129340399",
            "display_phone_number": "+1 555 222 3333",
            "access_token": "EAAG-assistant-token-0123456789",
        },
    )
    assert connected.status == 200, connected.raw
    wait_for(lambda: text_indexed(merchant, shop["id"]), timeout=ANSWER_TIMEOUT_S)
    return {
        "shop": shop,
        "merchant": merchant,
        "number": number,
        "products": products_of(merchant, shop["id"]),
    }


def text_indexed(merchant: Api, shop_id: str) -> bool:
    """Whether search finds the catalog's words yet (the indexer embeds new products first)."""
    reply = merchant.get(f"/search?shop_id={shop_id}&q=merino+socks")
    return reply.status == 200 and len(reply.json["items"]) >= 2


def products_of(merchant: Api, shop_id: str) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in merchant.get(f"/shops/{shop_id}/products?limit=100").json["items"]}


@dataclass
class Customer:
    app_stack: Any
    api: Api
    number: str
    wa_id: str
    name: str = "Ana"

    def says(self, text: str, age_s: int = 0, timeout: float = ANSWER_TIMEOUT_S) -> dict[str, Any]:
        message_id = self._post(self._message("text", {"text": {"body": text}}, age_s))
        return self._reply(message_id, timeout)

    def taps(self, reply_id: str, title: str = "tapped") -> dict[str, Any]:
        interactive = {"type": "list_reply", "list_reply": {"id": reply_id, "title": title}}
        return self._reply(self._post(self._message("interactive", {"interactive": interactive})), 30)

    def says_unanswered(self, text: str, age_s: int = 0) -> str:
        return self._post(self._message("text", {"text": {"body": text}}, age_s))

    def _message(self, kind: str, content: dict[str, Any], age_s: int = 0) -> dict[str, Any]:
        document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = self.number
        value["contacts"] = [{"profile": {"name": self.name}, "wa_id": self.wa_id}]
        value["messages"] = [
            {
                "from": self.wa_id,
                "id": f"wamid.dialogue-{secrets.token_hex(8)}",
                "timestamp": str(int(time.time()) - age_s),
                "type": kind,
                **content,
            }
        ]
        return document

    def _post(self, document: dict[str, Any]) -> str:
        raw = json.dumps(document, ensure_ascii=False).encode()
        assert post_webhook(self.api, raw, sign(raw)).status == 200
        return document["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

    def _reply(self, message_id: str, timeout: float) -> dict[str, Any]:
        (reply,) = wait_for(lambda: replies_to(self.app_stack, message_id), timeout=timeout)
        return reply["body"]


def new_customer(app_stack, api, assistant_shop, name: str = "Ana") -> Customer:
    return Customer(
        app_stack, api, assistant_shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7), name
    )


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    action = body.get("interactive", {}).get("action", {})
    return [row for section in action.get("sections", []) for row in section.get("rows", [])]


def shown_products(body: dict[str, Any]) -> list[str]:
    return [row["id"].removeprefix("show:") for row in rows(body) if row["id"].startswith("show:")]


def price_of(product: dict[str, Any]) -> Decimal:
    price = product["price"]
    return Decimal(price["amount"]).scaleb(-2)


def test_greeting_menu_and_browsing_a_category(app_stack, api, assistant_shop):
    ana = new_customer(app_stack, api, assistant_shop)
    # When Ana says hello: the welcome, with the shop's name and the menu's buttons
    welcome = ana.says("hello")
    assert "Cold Feet Outfitters" in said(welcome)
    buttons = [b["reply"]["id"] for b in welcome["interactive"]["action"]["buttons"]]
    assert buttons == ["menu:browse", "menu:ask", "menu:agent"]
    # When she browses: the categories with what is in stock, and a tap on one lists its products
    categories = ana.taps("menu:browse")
    titles = {row["title"]: row for row in rows(categories)}
    assert set(titles) == {"Socks", "Jackets", "Hats", "Tops", "Belts"}
    jackets = ana.taps(titles["Jackets"]["id"], "Jackets")
    listed = {assistant_shop["products"][pid]["retailer_id"] for pid in shown_products(jackets)}
    assert listed == {"JKT-DOWN-BLK-M", "JKT-FLC-BLU-M"}  # the rain jacket is out of stock


def test_advice_honours_price_and_colour_and_says_when_nothing_fits(app_stack, api, assistant_shop):
    products = assistant_shop["products"]
    bob = new_customer(app_stack, api, assistant_shop, "Bob")
    # "do you have merino socks?" finds them
    socks = bob.says("do you have merino socks?")
    found = {products[pid]["retailer_id"] for pid in shown_products(socks)}
    assert {"SOCK-MER-BLU-M", "SOCK-MER-GRY-L"} <= found
    # "something under $30" lists only products at or under 30.00
    cheap = bob.says("something under $30")
    cheap_ids = shown_products(cheap)
    assert cheap_ids and all(price_of(products[pid]) <= Decimal("30.00") for pid in cheap_ids)
    # "in blue" after it refines it: blue, and still at or under 30.00
    blue = bob.says("in blue")
    blue_ids = shown_products(blue)
    assert blue_ids and all("blue" in products[pid]["title"] for pid in blue_ids)
    assert all(price_of(products[pid]) <= Decimal("30.00") for pid in blue_ids)
    # A question nothing in the catalog answers says so, and names no product as if it fitted
    none = bob.says("do you sell surfboards?")
    assert said(none).startswith(translator("en").text(phrases.NO_MATCH)[:20]) or said(none).startswith(
        translator("en").text(phrases.NO_FIT)
    )
    assert not any(p["title"] in said(none) for p in products.values())


def test_a_faq_question_gets_the_merchants_answer(app_stack, api, assistant_shop):
    cleo = new_customer(app_stack, api, assistant_shop, "Cleo")
    # Cleo's first message: the merchant's answer comes after the shop's welcome
    assert said(cleo.says("Do you ship to Canada?")).endswith(f"\n\n{FAQ[0][1]}")
    assert said(cleo.says("What is your return policy?")) == FAQ[1][1]


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("es", "¿Tienen calcetines de merino?"),
        ("pt_BR", "Vocês têm meias de merino?"),
        ("hi", "क्या आपके पास मेरिनो मोज़े हैं?"),
    ],
)
def test_questions_in_spanish_portuguese_and_hindi_are_answered_in_kind(
    app_stack, api, assistant_shop, language, question
):
    customer = new_customer(app_stack, api, assistant_shop)
    reply = said(customer.says(question))
    t = translator(language)
    openings = [
        t.text(p).split("{")[0][:15] for p in (phrases.ADVICE_INTRO, phrases.NO_FIT, phrases.NO_MATCH)
    ]
    # The customer's first message: the shop's welcome, then the answer, both in their language
    welcome, answer = reply.split("\n\n", 1)
    assert welcome == t.text(phrases.WELCOME, shop="Cold Feet Outfitters")
    assert any(answer.startswith(opening) for opening in openings), (reply, openings)


def conversations(merchant: Api, shop_id: str, status: str) -> list[dict[str, Any]]:
    reply = merchant.get(f"/shops/{shop_id}/conversations?status={status}")
    assert reply.status == 200, reply.raw
    return reply.json["items"]


def test_handoff_agent_reply_silence_while_held_and_release(app_stack, api, assistant_shop):
    merchant, shop_id = assistant_shop["merchant"], assistant_shop["shop"]["id"]
    dan = new_customer(app_stack, api, assistant_shop, "Dan")
    # When Dan asks for a person: told once, and the conversation waits in the inbox
    handoff = dan.says("I want to talk to a person")
    assert "Cold Feet Outfitters" in said(handoff)
    waiting = wait_for(
        lambda: [c for c in conversations(merchant, shop_id, "waiting") if c["customer_name"] == "Dan"]
    )
    (conversation,) = waiting
    assert dan.wa_id not in json.dumps(conversation)  # the number is masked
    assert re.fullmatch(r"\+\d\d\u2022+\d\d", conversation["customer"])
    # While it waits, the assistant stays silent, and what Dan writes is kept
    quiet = dan.says_unanswered("hello? are you there?")
    time.sleep(2)
    assert replies_to(app_stack, quiet) == []
    # When an agent answers from the inbox: Dan gets it, and the agent holds the conversation
    path = f"/shops/{shop_id}/conversations/{conversation['id']}"
    sent = merchant.post(f"{path}/messages", {"text": "Hi Dan, I am Eve. How can I help?"})
    assert sent.status == 202, sent.raw
    wait_for(
        lambda: any(
            said(m["body"]) == "Hi Dan, I am Eve. How can I help?"
            for m in app_stack.graph.outbox(to=dan.wa_id)
        )
    )
    wait_for(lambda: [c for c in conversations(merchant, shop_id, "agent") if c["id"] == conversation["id"]])
    # The thread reads both ways, in order
    thread = merchant.get(path).json["messages"]
    assert [(m["direction"], m["text"]) for m in thread][-2:] == [
        ("in", "hello? are you there?"),
        ("out", "Hi Dan, I am Eve. How can I help?"),
    ]
    # When the agent releases it, the assistant answers again
    assert merchant.post(f"{path}/release", {}).status == 202
    wait_for(
        lambda: [c for c in conversations(merchant, shop_id, "assistant") if c["id"] == conversation["id"]]
    )
    back = dan.says("menu")
    assert [b["reply"]["id"] for b in back["interactive"]["action"]["buttons"]][0] == "menu:browse"


def test_an_agent_reply_outside_the_24_hour_window_is_409(app_stack, api, assistant_shop):
    merchant, shop_id = assistant_shop["merchant"], assistant_shop["shop"]["id"]
    eli = new_customer(app_stack, api, assistant_shop, "Eli")
    # Its reply is refused by the window too, so there is none to wait for
    eli.says_unanswered("I want to talk to a person", age_s=25 * 3600)
    (conversation,) = wait_for(
        lambda: [c for c in conversations(merchant, shop_id, "waiting") if c["customer_name"] == "Eli"]
    )
    reply = merchant.post(f"/shops/{shop_id}/conversations/{conversation['id']}/messages", {"text": "Hello?"})
    assert reply.status == 409 and "24 hours" in reply.json["error"]["message"]
