"""The emulator takes Meta's call-to-action and order_details messages as Meta does, and a customer pays
an order_details bill: WhatsApp's payment status webhook is posted, signed, in Meta's shape."""

from __future__ import annotations

from typing import Any

import pytest

from chatshop.messaging.outbound import Amount, CallToAction, OrderDetails, OrderDetailsItem, graph_body
from tests.unit.local import test_graph_emulator as base
from tests.unit.local.test_graph_emulator import (
    CUSTOMER,
    NUMBER_ID,
    Client,
    WebhookReceiver,
    signed_by_app_secret,
)

# The emulator's own fixtures: a clock, a webhook receiver, the emulator and a client of it.
clock, receiver, emulator, client = base.clock, base.receiver, base.emulator, base.client


def bill(reference_id: str = "o1234abcd", total: int = 2500) -> OrderDetails:
    return OrderDetails(
        body="Your order 7KQ2-MX4D",
        reference_id=reference_id,
        payment_type="upi",
        currency="INR",
        payment_configuration="shop-upi",
        items=(
            OrderDetailsItem(retailer_id="SOCK", name="Socks", amount=Amount(value=1000), quantity=2),
            OrderDetailsItem(
                retailer_id="CAP",
                name="Cap",
                amount=Amount(value=800),
                sale_amount=Amount(value=500),
                quantity=1,
            ),
        ),
        subtotal=Amount(value=2500),
        total=Amount(value=total),
    )


def test_a_call_to_action_and_a_bill_are_accepted(client: Client) -> None:
    cta = CallToAction(body="Pay for your order", display_text="Pay now", url="https://buy.stripe.com/x")

    assert client.send(graph_body(cta, CUSTOMER))[0] == 200
    assert client.send(graph_body(bill(), CUSTOMER))[0] == 200


def _bill_body(**changes: Any) -> dict[str, Any]:
    body = graph_body(bill(), CUSTOMER)
    parameters = body["interactive"]["action"]["parameters"]
    for path, value in changes.items():
        target = parameters
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value
    return body


@pytest.mark.parametrize(
    "changes",
    [
        {"total_amount": {"value": 2400, "offset": 100}},  # not subtotal + tax
        {"order.subtotal": {"value": 2000, "offset": 100}},  # not the items' sum
        {"currency": "USD"},  # UPI takes rupees
        {"reference_id": "has spaces"},
        {"reference_id": "x" * 36},
        {"order.items.0.amount": {"value": 1000, "offset": 1000}},
        {"order.status": "captured"},
    ],
)
def test_a_bill_meta_would_refuse_is_refused_with_131009(client: Client, changes: dict[str, Any]) -> None:
    status, body = client.send(_bill_body(**changes))

    assert status == 400
    assert body["error"]["code"] == 131009


def test_paying_a_bill_posts_the_payment_status_webhook(client: Client, receiver: WebhookReceiver) -> None:
    # Given a bill the shop sent
    _, accepted = client.send(graph_body(bill("o42"), CUSTOMER))
    message_id = accepted["messages"][0]["id"]

    # When the customer pays it
    status, posted = client.json(
        "POST", "/_emulator/payments", {"phone_number_id": NUMBER_ID, "reference_id": "o42"}, token=None
    )

    # Then WhatsApp's payment status arrives, signed, for that bill and amount
    assert status == 200
    delivery = next(d for d in iter(receiver.next, None) if '"type":"payment"' in d.body.decode())
    assert signed_by_app_secret(delivery)
    assert delivery.json() == posted
    item = posted["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert item["type"] == "payment" and item["status"] == "captured" and item["id"] == message_id
    assert item["payment"]["reference_id"] == "o42"
    assert item["payment"]["amount"] == {"value": 2500, "offset": 100}
    assert item["payment"]["transaction"]["status"] == "success"


def test_a_bill_never_sent_cannot_be_paid(client: Client) -> None:
    status, body = client.json(
        "POST", "/_emulator/payments", {"phone_number_id": NUMBER_ID, "reference_id": "nope"}, token=None
    )

    assert status == 400
    assert "no order_details" in body["error"]["message"]
