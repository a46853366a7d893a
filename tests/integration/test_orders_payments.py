"""Payment and expiry over the embedded AWS: Stripe events signed with the library's own scheme and
posted to the real route, the reservation expiry run as the schedule runs it, and the customer's
updates (once per change, free-form or the shop's template)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.orders.checkout import Buyer, CartLine, Checkout
from chatshop.orders.notify import update_id
from chatshop.orders.order_store import OrderStore
from chatshop.platform.config import load_settings
from chatshop.shops.shop_store import ShopStore

from .conftest import add_product

pytestmark = pytest.mark.integration

SECRET = "whsec_orders0123456789abcdef"
NUMBER = "100200399"


@pytest.fixture
def checkout(shops_environ) -> Checkout:
    return Checkout.from_settings(load_settings())


@pytest.fixture
def paid_by_link(merchant, shop, shops_environ):
    reply = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/payments/stripe",
        {"signing_secret": SECRET, "payment_link": "https://buy.stripe.com/test_orders"},
    )
    assert reply.status == 200, reply.raw
    return ShopStore(load_settings()).get(shop["id"])


def buyer(n: int) -> Buyer:
    return Buyer(wa_id=f"1555777{n:04d}", phone_number_id=NUMBER, name="Ana")


def stripe_event(
    order_id: str,
    event_id: str,
    amount: int,
    kind: str = "checkout.session.completed",
    payment_intent: str | None = None,
) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": f"cs_test_{event_id}",
                "object": "checkout.session",
                "client_reference_id": order_id,
                "payment_status": "paid",
                "amount_total": amount,
                "currency": "usd",
                "payment_intent": payment_intent,
            }
        },
    }
    return json.dumps(event).encode()


def refund_event(payment_intent: str, event_id: str, amount: int, refunded: int) -> bytes:
    """Stripe's charge.refunded: the charge names its payment intent, never the order."""
    event = {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": f"ch_test_{event_id}",
                "object": "charge",
                "payment_intent": payment_intent,
                "amount": amount,
                "amount_refunded": refunded,
                "refunded": refunded >= amount,
                "currency": "usd",
            }
        },
    }
    return json.dumps(event).encode()


def post_event(api, shop_id: str, body: bytes, secret: str = SECRET):
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret)
    return api.post(
        f"/webhooks/stripe/{shop_id}",
        raw=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def stock(merchant, shop_id: str, product_id: str) -> int:
    return merchant.get(f"/shops/{shop_id}/products/{product_id}").json["inventory"]


def order_status(merchant, shop_id: str, order_id: str) -> str:
    return merchant.get(f"/shops/{shop_id}/orders/{order_id}").json["status"]


def test_a_signed_checkout_event_marks_the_order_paid_once(api, merchant, shop, paid_by_link, checkout):
    add_product(merchant, shop["id"], "SOCK", inventory=3)
    now = datetime.now(UTC)
    ConversationStore(load_settings()).touch_customer(NUMBER, buyer(1).wa_id, "Ana", now)
    placed = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 1)], key="wamid.P1", buyer=buyer(1), now=now
    )
    order = placed.order
    body = stripe_event(order.id, "evt_paid_1", order.total.amount)
    # Forged: signed with another secret; then tampered: the right signature over other bytes
    assert post_event(api, shop["id"], body, secret="whsec_not_the_shops_secret").status == 400
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    tampered = body.replace(b"evt_paid_1", b"evt_paid_2")
    reply = api.post(
        f"/webhooks/stripe/{shop['id']}",
        raw=tampered,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert reply.status == 400 and reply.error_code == "invalid_signature"
    assert order_status(merchant, shop["id"], order.id) == "pending_payment"
    # Signed by the shop's secret: paid; the same event again changes nothing
    first = post_event(api, shop["id"], body)
    assert first.status == 200 and first.json["outcome"] == "paid"
    again = post_event(api, shop["id"], body)
    assert again.status == 200 and again.json["outcome"] == "replay"
    stored = merchant.get(f"/shops/{shop['id']}/orders/{order.id}").json
    assert stored["status"] == "paid" and stored["payment_reference"] == "cs_test_evt_paid_1"
    assert [h["status"] for h in stored["history"]] == ["pending_payment", "paid"]
    # The customer (inside the window) is told in words, once
    paid = order.model_copy(update={"status": "paid"})
    record = ConversationStore(load_settings()).outbound(update_id(paid))
    assert record is not None and record.message["type"] == "text"
    assert order.number in record.message["body"]


def test_a_payment_short_of_the_total_marks_nothing(api, merchant, shop, paid_by_link, checkout):
    add_product(merchant, shop["id"], "SOCK", inventory=3)
    placed = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 2)], key="wamid.P2", buyer=buyer(2), now=datetime.now(UTC)
    )
    reply = post_event(api, shop["id"], stripe_event(placed.order.id, "evt_short", 1))
    assert reply.status == 200 and reply.json["outcome"] == "amount_short"
    assert order_status(merchant, shop["id"], placed.order.id) == "pending_payment"


def test_a_shop_without_a_stripe_secret_has_no_stripe_webhook(api, shop):
    reply = post_event(api, shop["id"], stripe_event("o" + "0" * 31, "evt_x", 100))
    assert reply.status == 404


def test_a_charge_refunded_in_full_on_stripe_refunds_its_order_once(
    api, merchant, shop, paid_by_link, checkout
):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=3).json
    placed = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 2)], key="wamid.R1", buyer=buyer(6), now=datetime.now(UTC)
    )
    order, total = placed.order, placed.order.total.amount
    paid = post_event(api, shop["id"], stripe_event(order.id, "evt_r_paid", total, payment_intent="pi_r1"))
    assert paid.json["outcome"] == "paid"
    assert stock(merchant, shop["id"], sock["id"]) == 1
    # A partial refund on Stripe leaves the order as it is
    part = post_event(api, shop["id"], refund_event("pi_r1", "evt_r_part", total, total // 2))
    assert part.status == 200 and part.json["outcome"] == "partial_refund"
    assert order_status(merchant, shop["id"], order.id) == "paid"
    # The rest refunded: the order is refunded, by the payment, and its stock is back
    whole = refund_event("pi_r1", "evt_r_whole", total, total)
    reply = post_event(api, shop["id"], whole)
    assert reply.status == 200 and reply.json["outcome"] == "refunded"
    stored = merchant.get(f"/shops/{shop['id']}/orders/{order.id}").json
    assert stored["status"] == "refunded"
    assert [(h["status"], h["by"]) for h in stored["history"]][-1] == ("refunded", "payment")
    assert stock(merchant, shop["id"], sock["id"]) == 3
    # The same event again, or another event of the same refund, changes nothing more
    assert post_event(api, shop["id"], whole).json["outcome"] == "replay"
    again = post_event(api, shop["id"], refund_event("pi_r1", "evt_r_again", total, total))
    assert again.json["outcome"] == "already_refunded"
    assert stock(merchant, shop["id"], sock["id"]) == 3


def test_a_refund_of_a_payment_the_shop_never_took_changes_nothing(
    api, merchant, shop, paid_by_link, checkout
):
    add_product(merchant, shop["id"], "SOCK", inventory=3)
    placed = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 1)], key="wamid.R2", buyer=buyer(7), now=datetime.now(UTC)
    )
    total = placed.order.total.amount
    reply = post_event(api, shop["id"], refund_event("pi_unknown", "evt_r_unknown", total, total))
    assert reply.status == 200 and reply.json["outcome"] == "unknown_order"
    assert order_status(merchant, shop["id"], placed.order.id) == "pending_payment"


def test_expiry_gives_the_stock_back_and_never_releases_a_paid_order(
    app_stack, api, merchant, shop, paid_by_link, checkout
):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=5).json
    long_ago = datetime.now(UTC) - timedelta(minutes=45)  # past the default 30 minutes
    unpaid = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 2)], key="wamid.X1", buyer=buyer(3), now=long_ago
    )
    paid = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 1)], key="wamid.X2", buyer=buyer(4), now=long_ago
    )
    fresh = checkout.place_order(
        paid_by_link, [CartLine("SOCK", 1)], key="wamid.X3", buyer=buyer(5), now=datetime.now(UTC)
    )
    assert stock(merchant, shop["id"], sock["id"]) == 1
    assert (
        post_event(api, shop["id"], stripe_event(paid.order.id, "evt_x2", paid.order.total.amount)).status
        == 200
    )
    # When the schedule fires
    result = app_stack.invoke("ReservationExpiryFunction", {"detail-type": "Scheduled Event"})
    assert result.ok, result.error
    # Then the unpaid order past its time is cancelled and its 2 are back; the paid one and the fresh
    # one keep theirs
    assert order_status(merchant, shop["id"], unpaid.order.id) == "cancelled"
    assert order_status(merchant, shop["id"], paid.order.id) == "paid"
    assert order_status(merchant, shop["id"], fresh.order.id) == "pending_payment"
    assert stock(merchant, shop["id"], sock["id"]) == 3
    # Run again: nothing more is given back
    assert app_stack.invoke("ReservationExpiryFunction", {}).ok
    assert stock(merchant, shop["id"], sock["id"]) == 3
    history = OrderStore(load_settings()).get(shop["id"], unpaid.order.id).history
    assert [(h.status, h.by) for h in history] == [("pending_payment", "customer"), ("cancelled", "expiry")]


def test_outside_the_window_the_update_is_the_shops_template(merchant, shop, checkout):
    add_product(merchant, shop["id"], "SOCK")
    reply = merchant.request(
        "PUT", f"/shops/{shop['id']}/templates", {"order_update": {"en": "order_update", "es": "pedido"}}
    )
    assert reply.status == 200 and reply.json == {"order_update": {"en": "order_update", "es": "pedido"}}
    assert (
        merchant.request("PUT", f"/shops/{shop['id']}/templates", {"order_update": {"en": "Bad Name"}}).status
        == 422
    )
    the_shop = ShopStore(load_settings()).get(shop["id"])
    customer = Buyer(wa_id="15557770099", phone_number_id=NUMBER, language="es")
    placed = checkout.place_order(
        the_shop, [CartLine("SOCK", 1)], key="wamid.T1", buyer=customer, now=datetime.now(UTC)
    )
    shipped = merchant.post(f"/shops/{shop['id']}/orders/{placed.order.id}/transitions", {"to": "shipped"})
    assert shipped.status == 200  # paid on delivery: shipped before it is paid
    record = ConversationStore(load_settings()).outbound(f"order-{placed.order.id}-shipped")
    assert record.message["type"] == "template" and record.message["name"] == "pedido"
    assert record.message["language"] == "es"
    parameters = record.message["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == [placed.order.number, "enviado"]
