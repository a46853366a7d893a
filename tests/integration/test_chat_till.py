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
            "waba_id": "102290129340403",
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


# --- Ordering in the chat ------------------------------------------------------------------------------


def orders_of(till_shop, wa_id: str) -> list[dict[str, Any]]:
    found = till_shop["merchant"].get(f"/shops/{till_shop['shop']['id']}/orders?limit=100").json["items"]
    return [order for order in found if order.get("customer_wa_id") == wa_id]


def inventory(till_shop, retailer_id: str) -> int | None:
    product_id = till_shop["products"][retailer_id]["id"]
    return (
        till_shop["merchant"]
        .get(f"/shops/{till_shop['shop']['id']}/products/{product_id}")
        .json.get("inventory")
    )


def buttons(body: dict[str, Any]) -> list[str]:
    return [b["reply"]["id"] for b in body.get("interactive", {}).get("action", {}).get("buttons", [])]


def test_a_cart_filled_in_words_is_ordered_at_the_catalogs_prices_and_takes_its_stock(
    app_stack, api, till_shop
):
    di = new_customer(app_stack, api, till_shop)
    before = inventory(till_shop, "CAP-TRAIL")
    # Given a cart of two lines, filled in words
    di.says("2 of the wool socks")
    cart = di.says("add 1 trail cap")
    assert "Total: $49.00" in said(cart)

    # When she checks out
    summary = di.taps("cart:checkout")

    # Then one order holds the cart at the catalog's prices, its stock taken, and she is told how to pay
    (order,) = wait_for(lambda: orders_of(till_shop, di.wa_id), timeout=10)
    assert order["total"] == {"amount": 4900, "currency": "USD"} and order["status"] == "pending_payment"
    assert {(line["retailer_id"], line["quantity"]) for line in order["lines"]} == {
        ("SOCK-WOOL", 2),
        ("CAP-TRAIL", 1),
    }
    assert order["number"] in said(summary) and "$49.00" in said(summary)
    assert "when it is delivered" in said(summary)
    assert inventory(till_shop, "CAP-TRAIL") == before - 1
    # And the cart is gone
    assert "Your cart is empty" in said(di.says("cart"))


def test_whatsapps_cart_with_forged_prices_is_charged_the_catalogs(app_stack, api, till_shop):
    ed = new_customer(app_stack, api, till_shop)
    forged = [{"product_retailer_id": "SOCK-WOOL", "quantity": 3, "item_price": 0.01, "currency": "USD"}]

    summary = ed.reply_to(ed.orders(forged))

    (order,) = wait_for(lambda: orders_of(till_shop, ed.wa_id), timeout=10)
    assert order["total"] == {"amount": 3600, "currency": "USD"}
    assert "$36.00" in said(summary)


def test_an_order_webhook_delivered_twice_makes_one_order(app_stack, api, till_shop):
    flo = new_customer(app_stack, api, till_shop)
    items = [{"product_retailer_id": "SOCK-WOOL", "quantity": 1, "item_price": "12.00", "currency": "USD"}]
    message_id = f"wamid.till-twice-{secrets.token_hex(6)}"

    flo.orders(items, message_id)
    flo.reply_to(message_id)
    flo.orders(items, message_id)
    time.sleep(2)

    assert len(orders_of(till_shop, flo.wa_id)) == 1
    assert len(replies_to(app_stack, message_id)) == 1


def test_what_cannot_be_ordered_is_named_and_nothing_is_reserved(app_stack, api, till_shop):
    gus = new_customer(app_stack, api, till_shop)
    before = inventory(till_shop, "CAP-TRAIL")
    items = [
        {"product_retailer_id": "CAP-TRAIL", "quantity": 1, "item_price": 25, "currency": "USD"},
        {"product_retailer_id": "JKT-RAIN", "quantity": 1, "item_price": 99, "currency": "USD"},
        {"product_retailer_id": "NO-SUCH-SKU", "quantity": 1, "item_price": 1, "currency": "USD"},
    ]

    reply = said(gus.reply_to(gus.orders(items)))

    assert "Rain jacket: out of stock" in reply and "NO-SUCH-SKU: not in our catalog" in reply
    assert orders_of(till_shop, gus.wa_id) == [] and inventory(till_shop, "CAP-TRAIL") == before


def test_my_order_and_cancel_give_the_stock_back(app_stack, api, till_shop):
    hal = new_customer(app_stack, api, till_shop)
    before = inventory(till_shop, "CAP-TRAIL")
    hal.says("2 of the trail cap")
    hal.taps("cart:checkout")
    (order,) = wait_for(lambda: orders_of(till_shop, hal.wa_id), timeout=10)
    assert inventory(till_shop, "CAP-TRAIL") == before - 2

    listed = hal.says("where is my order?")
    assert order["number"] in said(listed) and "waiting for payment" in said(listed)
    asked = hal.says("cancel")
    assert buttons(asked)[0] == f"cancel:{order['id']}"
    done = hal.taps(buttons(asked)[0])

    assert order["number"] in said(done) and "cancelled" in said(done)
    (cancelled,) = orders_of(till_shop, hal.wa_id)
    assert cancelled["status"] == "cancelled"
    assert inventory(till_shop, "CAP-TRAIL") == before


def test_a_shop_sets_its_cart_reminder_hours_within_the_customer_window(app_stack, api, till_shop):
    merchant, shop_id = till_shop["merchant"], till_shop["shop"]["id"]
    assert till_shop["shop"]["cart_reminder_hours"] == 4

    changed = merchant.patch(f"/shops/{shop_id}", {"cart_reminder_hours": 6.0})  # JSON's whole 6
    refused = merchant.patch(f"/shops/{shop_id}", {"cart_reminder_hours": 30})

    assert changed.status == 200 and changed.json["cart_reminder_hours"] == 6
    assert refused.status == 422 and "cart_reminder_hours" in refused.raw.decode()
    assert merchant.get(f"/shops/{shop_id}").json["cart_reminder_hours"] == 6
    assert merchant.patch(f"/shops/{shop_id}", {"cart_reminder_hours": 4}).status == 200


def test_whatsapps_payment_status_for_an_orders_bill_marks_it_paid_once(app_stack, api, till_shop):
    ivy = new_customer(app_stack, api, till_shop)
    ivy.says("1 of the wool socks")
    ivy.taps("cart:checkout")
    (order,) = wait_for(lambda: orders_of(till_shop, ivy.wa_id), timeout=10)

    # When WhatsApp says the bill keyed by the order was paid in the chat, twice
    document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
    value = document["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = ivy.number
    value.pop("messages")
    value["statuses"] = [
        {
            "id": f"wamid.bill-{secrets.token_hex(6)}",
            "type": "payment",
            "status": "captured",
            "timestamp": str(int(time.time())),
            "recipient_id": ivy.wa_id,
            "payment": {
                "reference_id": order["id"],
                "amount": {"value": 1200, "offset": 100},
                "currency": "USD",
                "transaction": {"id": "pay_test_1", "type": "razorpay", "status": "success"},
            },
        }
    ]
    raw = json.dumps(document).encode()
    assert post_webhook(api, raw, sign(raw)).status == 200
    assert post_webhook(api, raw, sign(raw)).status == 200

    # Then the order is paid, and its history says so once
    paid = wait_for(lambda: [o for o in orders_of(till_shop, ivy.wa_id) if o["status"] == "paid"], timeout=15)
    assert [change["status"] for change in paid[0]["history"]].count("paid") == 1
