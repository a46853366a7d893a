"""Orders over the embedded AWS: placing from a cart (priced from the catalog, stock reserved in one
transaction, idempotent), the merchant's API and its state machine, and stock given back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chatshop.orders.checkout import Buyer, CartLine, Checkout, payment_instructions
from chatshop.orders.lifecycle import IllegalTransition
from chatshop.platform.config import load_settings
from chatshop.shops.shop_store import ShopStore

from .conftest import add_product, usd

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BUYER = Buyer(wa_id="15551230001", phone_number_id="100200300", name="Ana")


@pytest.fixture
def checkout(shops_environ) -> Checkout:
    return Checkout.from_settings(load_settings())


def stored_shop(shop_id: str):
    return ShopStore(load_settings()).get(shop_id)


def inventory(merchant, shop_id: str, product_id: str) -> int | None:
    return merchant.get(f"/shops/{shop_id}/products/{product_id}").json["inventory"]


def test_an_order_is_priced_from_the_catalog_and_takes_its_stock(merchant, shop, checkout):
    # Given a product on sale with 5 in stock, and one that counts no stock
    sock = add_product(merchant, shop["id"], "SOCK", price=usd(1500), sale_price=usd(1200), inventory=5).json
    add_product(merchant, shop["id"], "HAT", price=usd(2500))
    # When a cart orders 2 socks (twice 1) and a hat
    lines = [CartLine("SOCK", 1), CartLine("HAT", 1), CartLine("SOCK", 1)]
    placed = checkout.place_order(stored_shop(shop["id"]), lines, key="wamid.A1", buyer=BUYER, now=NOW)
    # Then the order holds the sale price, in the shop's currency, and two socks fewer are left
    assert placed.created and not placed.problems
    order = placed.order
    assert [(line.retailer_id, line.quantity, line.unit_price.amount) for line in order.lines] == [
        ("SOCK", 2, 1200),
        ("HAT", 1, 2500),
    ]
    assert order.total.amount == 4900 and order.total.currency == "USD"
    assert order.status == "pending_payment" and order.expires_at is None  # paid on delivery
    assert inventory(merchant, shop["id"], sock["id"]) == 3
    assert merchant.get(f"/shops/{shop['id']}/orders/{order.id}").json["total"] == {
        "amount": 4900,
        "currency": "USD",
    }


def test_placing_again_with_the_same_key_creates_nothing(merchant, shop, checkout):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=5).json
    the_shop = stored_shop(shop["id"])
    first = checkout.place_order(the_shop, [CartLine("SOCK", 2)], key="wamid.B1", buyer=BUYER, now=NOW)
    again = checkout.place_order(the_shop, [CartLine("SOCK", 2)], key="wamid.B1", buyer=BUYER, now=NOW)
    assert first.created and not again.created
    assert again.order == first.order
    assert inventory(merchant, shop["id"], sock["id"]) == 3
    assert len(merchant.get(f"/shops/{shop['id']}/orders").json["items"]) == 1


def test_a_line_that_cannot_be_ordered_is_named_and_nothing_is_reserved(merchant, shop, checkout):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=5).json
    add_product(merchant, shop["id"], "OLD", availability="discontinued")
    add_product(merchant, shop["id"], "GONE", inventory=0)
    add_product(merchant, shop["id"], "FEW", inventory=1)
    lines = [CartLine(r, 2) for r in ("SOCK", "OLD", "GONE", "FEW", "NOPE")]
    placed = checkout.place_order(stored_shop(shop["id"]), lines, key="wamid.C1", buyer=BUYER, now=NOW)
    assert placed.order is None and not placed.created
    assert [(p.retailer_id, p.reason, p.available) for p in placed.problems] == [
        ("OLD", "discontinued", None),
        ("GONE", "out_of_stock", 0),
        ("FEW", "insufficient", 1),
        ("NOPE", "unknown", None),
    ]
    assert inventory(merchant, shop["id"], sock["id"]) == 5
    assert merchant.get(f"/shops/{shop['id']}/orders").json["items"] == []


def test_fifty_customers_for_the_last_ten_units(merchant, shop, checkout):
    last = add_product(merchant, shop["id"], "LAST", inventory=10).json
    the_shop = stored_shop(shop["id"])

    def order(n: int):
        buyer = Buyer(wa_id=f"1555000{n:04d}", phone_number_id="100200300")
        return checkout.place_order(the_shop, [CartLine("LAST", 1)], key=f"cart-{n}", buyer=buyer, now=NOW)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(order, range(50)))
    placed = [r for r in results if r.order is not None]
    refused = [r for r in results if r.order is None]
    assert len(placed) == 10 and len(refused) == 40
    assert all(r.problems[0].reason == "out_of_stock" for r in refused)
    assert inventory(merchant, shop["id"], last["id"]) == 0


def test_the_merchant_moves_an_order_through_its_life(merchant, shop, checkout):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=5).json
    placed = checkout.place_order(
        stored_shop(shop["id"]), [CartLine("SOCK", 2)], key="wamid.D1", buyer=BUYER, now=NOW
    )
    path = f"/shops/{shop['id']}/orders/{placed.order.id}/transitions"
    # An order not paid cannot be delivered: 409 naming where it is
    refused = merchant.post(path, {"to": "delivered"})
    assert refused.status == 409 and refused.json["error"]["details"]["current_status"] == "pending_payment"
    assert merchant.post(path, {"to": "paid"}).json["status"] == "paid"
    assert merchant.post(path, {"to": "paid"}).status == 200  # asked again: the same order, nothing twice
    shipped = merchant.post(path, {"to": "shipped", "tracking_url": "https://track.example.com/1"})
    assert (
        shipped.json["status"] == "shipped" and shipped.json["tracking_url"] == "https://track.example.com/1"
    )
    assert merchant.post(path, {"to": "cancelled"}).status == 409
    assert merchant.post(path, {"to": "delivered"}).json["status"] == "delivered"
    # Refunded after delivery: the goods are with the customer, the stock stays as it is
    assert merchant.post(path, {"to": "refunded"}).json["status"] == "refunded"
    assert inventory(merchant, shop["id"], sock["id"]) == 3
    history = merchant.get(f"/shops/{shop['id']}/orders/{placed.order.id}").json["history"]
    assert [h["status"] for h in history] == ["pending_payment", "paid", "shipped", "delivered", "refunded"]


def test_cancelling_gives_the_stock_back(merchant, shop, checkout):
    sock = add_product(merchant, shop["id"], "SOCK", inventory=5).json
    the_shop = stored_shop(shop["id"])
    placed = checkout.place_order(the_shop, [CartLine("SOCK", 4)], key="wamid.E1", buyer=BUYER, now=NOW)
    assert inventory(merchant, shop["id"], sock["id"]) == 1
    cancelled = checkout.cancel_by_customer(the_shop, placed.order.id, BUYER.wa_id, NOW)
    assert cancelled.status == "cancelled"
    assert inventory(merchant, shop["id"], sock["id"]) == 5
    with pytest.raises(IllegalTransition):
        checkout.orders.move(the_shop, placed.order.id, "shipped", by="merchant", now=NOW)
    assert [o.id for o in checkout.latest_orders(shop["id"], BUYER.wa_id)] == [placed.order.id]


def test_orders_are_listed_by_status_a_page_at_a_time(merchant, shop, checkout):
    add_product(merchant, shop["id"], "SOCK")
    the_shop = stored_shop(shop["id"])
    ids = []
    for n in range(3):
        placed = checkout.place_order(
            the_shop, [CartLine("SOCK", 1)], key=f"wamid.F{n}", buyer=BUYER, now=NOW + timedelta(minutes=n)
        )
        ids.append(placed.order.id)
    merchant.post(f"/shops/{shop['id']}/orders/{ids[1]}/transitions", {"to": "paid"})
    first = merchant.get(f"/shops/{shop['id']}/orders?limit=1&status=pending_payment").json
    assert [o["id"] for o in first["items"]] == [ids[2]]
    second = merchant.get(
        f"/shops/{shop['id']}/orders?limit=1&status=pending_payment&cursor={first['next_cursor']}"
    )
    assert [o["id"] for o in second.json["items"]] == [ids[0]] and second.json["next_cursor"] is None
    assert [o["id"] for o in merchant.get(f"/shops/{shop['id']}/orders?status=paid").json["items"]] == [
        ids[1]
    ]
    assert merchant.get(f"/shops/{shop['id']}/orders?status=lost").status == 422
    assert merchant.get(f"/shops/{shop['id']}/orders/o-nothing").status == 404


def test_a_payment_link_carries_the_order_id(merchant, shop, checkout, shops_environ):
    add_product(merchant, shop["id"], "SOCK")
    reply = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/payments/stripe",
        {"signing_secret": "whsec_test0123456789", "payment_link": "https://buy.stripe.com/test_abc"},
    )
    assert reply.status == 200 and "signing_secret" not in reply.json
    the_shop = stored_shop(shop["id"])
    assert the_shop.payment == "stripe_link"
    placed = checkout.place_order(the_shop, [CartLine("SOCK", 1)], key="wamid.G1", buyer=BUYER, now=NOW)
    how = payment_instructions(the_shop, placed.order)
    assert how.url == f"https://buy.stripe.com/test_abc?client_reference_id={placed.order.id}"
    assert placed.order.expires_at == NOW + timedelta(minutes=30)


def test_an_order_moves_the_products_version_so_a_stale_change_cannot_write_the_old_count(
    merchant, shop, checkout
):
    read = add_product(merchant, shop["id"], "SOCK", inventory=5)
    checkout.place_order(stored_shop(shop["id"]), [CartLine("SOCK", 2)], key="wamid.H1", buyer=BUYER, now=NOW)
    path = f"/shops/{shop['id']}/products/{read.json['id']}"
    stale = merchant.patch(path, {"title": "Wool sock"}, headers={"If-Match": read.headers["ETag"]})
    assert stale.status == 412
    fresh = merchant.get(path)
    changed = merchant.patch(path, {"title": "Wool sock"}, headers={"If-Match": fresh.headers["ETag"]})
    assert changed.status == 200 and changed.json["inventory"] == 3


def test_a_shop_is_paid_by_link_only_once_it_has_one(merchant, shop):
    refused = merchant.patch(f"/shops/{shop['id']}", {"payment": "stripe_link"})
    assert refused.status == 409
    assert merchant.patch(f"/shops/{shop['id']}", {"payment": "at_pickup"}).json["payment"] == "at_pickup"
    assert merchant.patch(f"/shops/{shop['id']}", {"reservation_minutes": 2}).status == 422
