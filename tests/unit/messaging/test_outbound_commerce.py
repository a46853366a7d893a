"""Call-to-action URL buttons and WhatsApp's in-chat bill (order_details), checked as Meta checks them."""

from __future__ import annotations

from typing import Any

import pytest

from chatshop.messaging.outbound import OutboundValidationError, graph_body, parse_outbound


def bill(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "order_details",
        "body": "Your order 7KQ2-MX4D",
        "reference_id": "o1234",
        "payment_type": "upi",
        "currency": "INR",
        "payment_configuration": "shop-upi",
        "items": [
            {"retailer_id": "SOCK", "name": "Socks", "amount": {"value": 1000}, "quantity": 2},
            {
                "retailer_id": "CAP",
                "name": "Cap",
                "amount": {"value": 800},
                "sale_amount": {"value": 500},
                "quantity": 1,
            },
        ],
        "subtotal": {"value": 2500},
        "tax": {"value": 100},
        "total": {"value": 2600},
    }
    data.update(changes)
    return data


def test_a_bill_is_written_as_metas_review_and_pay() -> None:
    body = graph_body(
        parse_outbound(bill(expires_at=1_800_000_000, expiration_description="Time is up")), "9199"
    )

    interactive = body["interactive"]
    assert body["type"] == "interactive" and interactive["type"] == "order_details"
    assert interactive["action"]["name"] == "review_and_pay"
    parameters = interactive["action"]["parameters"]
    assert parameters["reference_id"] == "o1234" and parameters["type"] == "physical-goods"
    assert parameters["total_amount"] == {"value": 2600, "offset": 100}
    order = parameters["order"]
    assert order["status"] == "pending"
    assert order["items"][1]["sale_amount"] == {"value": 500, "offset": 100}
    assert order["tax"] == {"value": 100, "offset": 100}
    assert order["expiration"] == {"timestamp": "1800000000", "description": "Time is up"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subtotal": {"value": 2000}}, "subtotal"),
        ({"total": {"value": 2500}}, "total"),
        ({"currency": "BRL"}, "currency"),
        ({"payment_configuration": None}, "payment_configuration"),
        ({"payment_type": "br", "currency": "BRL", "payment_configuration": None}, "payment_settings"),
        ({"reference_id": "with space"}, "reference_id"),
        ({"reference_id": "r" * 36}, "reference_id"),
        ({"items": []}, "items"),
        ({"expiration_description": "late"}, "expires_at"),
    ],
)
def test_a_bill_meta_would_refuse_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(OutboundValidationError) as refused:
        parse_outbound(bill(**changes))

    assert refused.value.field == field


def test_a_sale_amount_must_be_less_than_the_amount() -> None:
    items = [
        {
            "retailer_id": "A",
            "name": "A",
            "amount": {"value": 500},
            "sale_amount": {"value": 500},
            "quantity": 1,
        }
    ]

    with pytest.raises(OutboundValidationError) as refused:
        parse_outbound(bill(items=items, subtotal={"value": 500}, tax={"value": 0}, total={"value": 500}))

    assert refused.value.field == "items.0.sale_amount"


def test_brazil_pays_through_its_payment_settings() -> None:
    settings = [{"type": "payment_link", "payment_link": {"uri": "https://pay.example/o1"}}]

    body = graph_body(
        parse_outbound(
            bill(payment_type="br", currency="BRL", payment_configuration=None, payment_settings=settings)
        ),
        "5511",
    )

    assert body["interactive"]["action"]["parameters"]["payment_settings"] == settings


def test_a_call_to_action_carries_one_url_button() -> None:
    message = parse_outbound(
        {"type": "cta_url", "body": "Pay here", "display_text": "Pay now", "url": "https://x.example/p"}
    )

    assert graph_body(message, "1555")["interactive"] == {
        "type": "cta_url",
        "body": {"text": "Pay here"},
        "action": {
            "name": "cta_url",
            "parameters": {"display_text": "Pay now", "url": "https://x.example/p"},
        },
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_text": "x" * 21}, "display_text"),
        ({"url": "ftp://x.example"}, "url"),
        ({"body": " "}, "body"),
    ],
)
def test_a_call_to_action_meta_would_refuse_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(OutboundValidationError) as refused:
        parse_outbound(
            {
                "type": "cta_url",
                "body": "Pay",
                "display_text": "Pay now",
                "url": "https://x.example",
                **changes,
            }
        )

    assert refused.value.field == field
