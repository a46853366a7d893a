"""The chat as a till over the real stack: signed webhooks in, the assistant's replies out through
the Graph API emulator, orders and stock in the embedded DynamoDB, the cart reminder's schedule run
as the local clock runs it."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import Api, add_product, open_shop, sign_up, usd, wait_for
from .whatsapp import FIXTURES, post_webhook, replies_to, said, sign

pytestmark = pytest.mark.integration

CATALOG = [
    ("SOCK-WOOL", "Wool socks", 1200, "in stock", None),
    ("CAP-TRAIL", "Trail cap", 2500, "in stock", 5),
    ("JKT-RAIN", "Rain jacket", 9900, "out of stock", None),
]
REMINDER_OPENING = "You left"


@pytest.fixture(scope="module")
def till_shop(app_stack) -> dict[str, Any]:
    merchant = sign_up(Api(app_stack.gateway.url), "Till Shop")
    shop = open_shop(merchant, name="Till Threads")
    for retailer_id, title, cents, availability, inventory in CATALOG:
        fields: dict[str, Any] = {"title": title, "price": usd(cents), "availability": availability}
        if inventory is not None:
            fields["inventory"] = inventory
        reply = add_product(merchant, shop["id"], retailer_id, **fields)
        assert reply.status == 201, reply.raw
    number = "1" + str(secrets.randbelow(10**14)).zfill(14)
    connected = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": number,
            "waba_id": "102290129340399",
            "display_phone_number": "+1 555 222 4444",
            "access_token": "EAAG-till-token-0123456789",
        },
    )
    assert connected.status == 200, connected.raw
    products = merchant.get(f"/shops/{shop['id']}/products?limit=100").json["items"]
    return {
        "shop": shop,
        "merchant": merchant,
        "number": number,
        "products": {p["retailer_id"]: p for p in products},
    }


@dataclass
class Customer:
    app_stack: Any
    api: Api
    number: str
    wa_id: str

    def says(self, text: str, age_s: int = 0) -> dict[str, Any]:
        return self.reply_to(self.send("text", {"text": {"body": text}}, age_s))

    def taps(self, reply_id: str) -> dict[str, Any]:
        interactive = {"type": "button_reply", "button_reply": {"id": reply_id, "title": "tapped"}}
        return self.reply_to(self.send("interactive", {"interactive": interactive}))

    def orders(self, items: list[dict[str, Any]], message_id: str | None = None) -> str:
        return self.send(
            "order", {"order": {"catalog_id": "cat-till", "product_items": items}}, 0, message_id
        )

    def send(self, kind: str, content: dict[str, Any], age_s: int = 0, message_id: str | None = None) -> str:
        document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = self.number
        value["contacts"] = [{"profile": {"name": "Ana"}, "wa_id": self.wa_id}]
        message_id = message_id or f"wamid.till-{secrets.token_hex(8)}"
        value["messages"] = [
            {
                "from": self.wa_id,
                "id": message_id,
                "timestamp": str(int(time.time()) - age_s),
                "type": kind,
                **content,
            }
        ]
        raw = json.dumps(document, ensure_ascii=False).encode()
        assert post_webhook(self.api, raw, sign(raw)).status == 200
        return message_id

    def reply_to(self, message_id: str) -> dict[str, Any]:
        (reply,) = wait_for(lambda: replies_to(self.app_stack, message_id), timeout=30)
        return reply["body"]

    def received(self) -> list[dict[str, Any]]:
        return [m["body"] for m in self.app_stack.graph.outbox(to=self.wa_id)]


def new_customer(app_stack, api, till_shop) -> Customer:
    return Customer(app_stack, api, till_shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))


def reminders(customer: Customer) -> list[dict[str, Any]]:
    return [body for body in customer.received() if said(body).startswith(REMINDER_OPENING)]


def run_reminders(app_stack) -> None:
    result = app_stack.invoke(
        "CartRemindersFunction", {"source": "aws.events", "detail-type": "Scheduled Event"}
    )
    assert result.error is None, result


def test_a_cart_left_for_four_hours_gets_one_reminder(app_stack, api, till_shop):
    ana = new_customer(app_stack, api, till_shop)
    # Given a cart Ana filled four hours ago and left
    added = ana.says("2 of the wool socks", age_s=4 * 3600 + 120)
    assert "2 \u00d7 Wool socks" in said(added)

    # When the reminder schedule runs, twice
    run_reminders(app_stack)
    (reminder,) = wait_for(lambda: reminders(ana), timeout=30)
    run_reminders(app_stack)
    time.sleep(2)

    # Then she is reminded once, with her cart's total and a checkout button
    assert len(reminders(ana)) == 1
    assert "$24.00" in said(reminder)
    assert reminder["interactive"]["action"]["buttons"][0]["reply"]["id"] == "cart:checkout"


def test_a_cart_left_past_the_customer_window_gets_no_reminder(app_stack, api, till_shop):
    bo = new_customer(app_stack, api, till_shop)
    # The answer to a message this old cannot go out either: Meta would refuse it.
    bo.send("text", {"text": {"body": "add 1 trail cap"}}, age_s=25 * 3600)
    time.sleep(3)

    run_reminders(app_stack)
    time.sleep(3)

    assert reminders(bo) == []


def test_a_cart_still_fresh_gets_no_reminder_yet(app_stack, api, till_shop):
    cy = new_customer(app_stack, api, till_shop)
    cy.says("add 1 trail cap")

    run_reminders(app_stack)
    time.sleep(2)

    assert reminders(cy) == []
