"""`chatshop chat` shows WhatsApp's bill and its pay button, and /pay pays the last bill the shop sent
through the Graph emulator, which posts WhatsApp's payment status webhook."""

from __future__ import annotations

import io

from chatshop.messaging.outbound import Amount, CallToAction, OrderDetails, OrderDetailsItem, graph_body
from chatshop_local.chat import ChatSession, Console, GraphEmulatorClient, ShopChannel
from chatshop_local.chat_render import render
from tests.unit.local import test_graph_emulator as base
from tests.unit.local.test_graph_emulator import CUSTOMER, NUMBER_ID, Client, WebhookReceiver

clock, receiver, emulator, client = base.clock, base.receiver, base.emulator, base.client


def bill(reference_id: str) -> OrderDetails:
    return OrderDetails(
        body="Your order 7KQ2-MX4D",
        reference_id=reference_id,
        payment_type="upi",
        currency="INR",
        payment_configuration="shop-upi",
        items=(OrderDetailsItem(retailer_id="SOCK", name="Socks", amount=Amount(value=49900), quantity=2),),
        subtotal=Amount(value=99800),
        total=Amount(value=99800),
    )


def chat_session(emulator, out: io.StringIO) -> ChatSession:
    """A chat as the customer Dana with the emulator's shop number, printing to ``out``."""
    return ChatSession(
        GraphEmulatorClient(emulator.url),
        ShopChannel("s1", NUMBER_ID, "+1 555 000 1111", None),
        CUSTOMER,
        "Dana",
        Console(out, "Shop", interactive=False),
    )


def test_a_bill_and_a_pay_button_are_shown_with_what_to_do():
    shown = render(graph_body(bill("o42"), CUSTOMER))
    link = render(
        graph_body(CallToAction(body="Pay", display_text="Pay now", url="https://buy.stripe.com/x"), CUSTOMER)
    )

    assert any("Review and pay INR 998.00" in line and "/pay" in line for line in shown)
    assert "    [Pay now] https://buy.stripe.com/x" in link


def test_pay_pays_the_last_bill_the_shop_sent(emulator, client: Client, receiver: WebhookReceiver):
    # Given the shop sent the customer a bill
    client.send(graph_body(bill("o77"), CUSTOMER))
    out = io.StringIO()
    session = chat_session(emulator, out)
    session.poll_once()

    # When the customer types /pay
    session.handle("/pay")

    assert "paid the bill o77" in out.getvalue(), out.getvalue()
    # Then WhatsApp's payment status for that bill is posted to the webhook
    posted = next(d.json() for d in iter(receiver.next, None) if b'"type":"payment"' in d.body)
    status = posted["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status["payment"]["reference_id"] == "o77" and status["status"] == "captured"


def test_pay_without_a_bill_says_there_is_none(emulator):
    out = io.StringIO()
    session = chat_session(emulator, out)

    session.handle("/pay")

    assert "sent no bill" in out.getvalue()
