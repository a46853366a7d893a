"""The orders context's pure logic: pricing, the state machine, payment links, attribution, the
customer's update messages and the expiry hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatshop.orders import lifecycle, pricing
from chatshop.orders.checkout import Buyer, attribution, with_reference
from chatshop.orders.domain import Order, OrderLine, order_id_for, order_number
from chatshop.orders.expiry import buckets
from chatshop.orders.notify import update_id, update_message
from chatshop.shops.domain import Product, Shop
from chatshop.shops.money import Money

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def shop(**fields) -> Shop:
    values = dict(
        id="s1",
        merchant_id="m1",
        name="Corner",
        description="",
        country="US",
        currency="USD",
        status="active",
        timezone="UTC",
        created_at=NOW,
        updated_at=NOW,
    )
    return Shop(**{**values, **fields})


def product(retailer_id: str, price: int, sale: int | None = None, **fields) -> Product:
    return Product(
        id=f"p-{retailer_id}",
        shop_id="s1",
        retailer_id=retailer_id,
        title=retailer_id,
        price=Money(amount=price, currency="USD"),
        sale_price=Money(amount=sale, currency="USD") if sale is not None else None,
        version=1,
        created_at=NOW,
        updated_at=NOW,
        **fields,
    )


def order(status="pending_payment", payment_method="on_delivery", paid_at=None, **fields) -> Order:
    line = OrderLine(
        retailer_id="SOCK",
        product_id="p-SOCK",
        title="Sock",
        quantity=2,
        unit_price=Money(amount=500, currency="USD"),
        total=Money(amount=1000, currency="USD"),
        reserved=True,
    )
    values = dict(
        id="o" + "a" * 31,
        number="AAAA-AAAA",
        shop_id="s1",
        status=status,
        lines=[line],
        total=Money(amount=1000, currency="USD"),
        payment_method=payment_method,
        paid_at=paid_at,
        customer_wa_id="15550001",
        phone_number_id="100",
        placed_at=NOW,
        updated_at=NOW,
    )
    return Order(**{**values, **fields})


def test_lines_are_priced_from_the_catalog_at_the_sale_price():
    priced = pricing.price(
        shop(), {"A": 2, "B": 1}, {"A": product("A", 1000, sale=800), "B": product("B", 300)}
    )
    assert [(line.unit_price.amount, line.total.amount) for line in priced.lines] == [(800, 1600), (300, 300)]
    assert priced.total == Money(amount=1900, currency="USD") and not priced.problems


@pytest.mark.parametrize(
    "found, reason, available",
    [
        (None, "unknown", None),
        (product("A", 100, availability="discontinued"), "discontinued", None),
        (product("A", 100, availability="out of stock"), "out_of_stock", 0),
        (product("A", 100, inventory=0), "out_of_stock", 0),
        (product("A", 100, inventory=2), "insufficient", 2),
    ],
)
def test_a_line_that_cannot_be_ordered_is_a_named_problem(found, reason, available):
    priced = pricing.price(shop(), {"A": 3}, {"A": found})
    assert not priced.lines
    assert [(p.retailer_id, p.reason, p.available) for p in priced.problems] == [("A", reason, available)]


def test_a_product_twice_in_a_cart_is_one_line():
    assert pricing.merged([("A", 1), ("B", 2), ("A", 3)]) == {"A": 4, "B": 2}


def test_the_order_id_is_the_keys_and_its_number_is_short():
    assert order_id_for("s1", "wamid.1") == order_id_for("s1", "wamid.1") != order_id_for("s2", "wamid.1")
    number = order_number(order_id_for("s1", "wamid.1"))
    assert len(number) == 9 and number[4] == "-"


@pytest.mark.parametrize(
    "current, to, releases",
    [
        (order(), "paid", False),
        (order(), "cancelled", True),
        (order(status="paid", paid_at=NOW), "shipped", False),
        (order(status="paid", paid_at=NOW), "cancelled", True),
        (order(status="paid", paid_at=NOW), "refunded", True),
        (order(status="shipped", paid_at=NOW), "refunded", True),
        (order(status="delivered", paid_at=NOW), "refunded", False),
        (order(status="cancelled", paid_at=NOW), "refunded", False),
        (order(), "shipped", False),  # paid on delivery
    ],
)
def test_allowed_moves_and_the_stock_they_give_back(current, to, releases):
    assert lifecycle.move(current, to).releases_stock is releases


@pytest.mark.parametrize(
    "current, to",
    [
        (order(), "delivered"),
        (order(), "refunded"),
        (order(payment_method="stripe_link"), "shipped"),
        (order(status="shipped", paid_at=NOW), "cancelled"),
        (order(status="shipped"), "refunded"),  # on delivery, not paid yet
        (order(status="cancelled"), "paid"),
        (order(status="cancelled"), "refunded"),
        (order(status="refunded", paid_at=NOW), "paid"),
    ],
)
def test_an_illegal_move_names_the_current_status(current, to):
    with pytest.raises(lifecycle.IllegalTransition) as raised:
        lifecycle.move(current, to)
    assert raised.value.status == 409 and raised.value.details["current_status"] == current.status


def test_delivering_an_order_paid_on_delivery_marks_it_paid():
    assert lifecycle.move(order(status="shipped"), "delivered").marks_paid
    assert not lifecycle.move(order(status="shipped", paid_at=NOW), "delivered").marks_paid


def test_a_payment_link_carries_the_order_id_once():
    link = "https://buy.stripe.com/abc?prefilled_email=a%40b.c&client_reference_id=old"
    assert (
        with_reference(link, "o1")
        == "https://buy.stripe.com/abc?prefilled_email=a%40b.c&client_reference_id=o1"
    )


def test_an_order_is_credited_to_its_source_only_within_the_window():
    source = {"type": "ad", "source_id": "120"}
    recent = Buyer("1", "n", source=source, first_contact_at=NOW - timedelta(days=6))
    old = Buyer("1", "n", source=source, first_contact_at=NOW - timedelta(days=8))
    assert attribution(shop(), recent, NOW) == source
    assert attribution(shop(), old, NOW) == {"type": "organic"}
    assert attribution(shop(attribution_window_days=10), old, NOW) == source
    assert attribution(shop(), Buyer("1", "n"), NOW) == {"type": "organic"}


def test_an_update_is_words_inside_the_window_and_the_template_outside():
    paid = order(status="paid", paid_at=NOW)
    told, message = update_message(shop(), paid, "payment", True)
    assert told == "text" and "AAAA-AAAA" in message["body"] and "$10.00" in message["body"]
    assert update_message(shop(), paid, "payment", False) == ("no_template", None)
    templated = shop(templates={"order_update": {"en": "order_update", "pt_BR": "pedido_atualizado"}})
    told, message = update_message(templated, paid.model_copy(update={"language": "pt_BR"}), "payment", False)
    assert told == "template" and message["name"] == "pedido_atualizado" and message["language"] == "pt_BR"
    assert [p["text"] for p in message["components"][0]["parameters"]] == ["AAAA-AAAA", "pago"]
    assert update_id(paid) == f"order-{paid.id}-paid"


def test_an_expired_reservation_is_told_why():
    _, message = update_message(shop(reservation_minutes=45), order(status="cancelled"), "expiry", True)
    assert "45 minutes" in message["body"]


def test_the_sweep_reads_the_hours_gone_by_oldest_first():
    hours = buckets(NOW, lookback_hours=2)
    assert hours == ["EXPIRES#2026-12-02T10", "EXPIRES#2026-12-02T11", "EXPIRES#2026-12-02T12"]
