"""The chat as a till, over in-memory fakes: the cart in words and taps, checkout, WhatsApp's cart,
following and cancelling orders, and the abandoned cart's one reminder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from chatshop.assistant import intents
from chatshop.assistant.dialogue import Assistant
from chatshop.assistant.till import Buyer, Cancellation, Payment, Placement
from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.payment_status import PaymentStatus
from chatshop.orders.domain import LineProblem, Order, OrderLine, order_id_for, order_number
from chatshop.shops.domain import Product, Shop
from chatshop.shops.money import Money
from tests.unit.assistant.test_dialogue import (
    CUSTOMER,
    NUMBER,
    START,
    Clock,
    FakeCatalogs,
    FakeQuestions,
    FakeReplies,
    FakeStates,
    message,
    state,
)


def item(
    n: int, title: str, price: int, inventory: int | None = None, availability: str = "in stock"
) -> Product:
    return Product(
        id=f"p{n:031x}",
        shop_id="s1",
        retailer_id=f"SKU-{n}",
        title=title,
        price=Money(amount=price, currency="USD"),
        availability=availability,
        category="Apparel",
        inventory=inventory,
        version=1,
        created_at=START,
        updated_at=START,
    )


SOCKS = item(1, "Wool Socks", 1200)
CAP = item(2, "Trail Cap", 2500, inventory=3)
JACKET = item(3, "Rain Jacket", 9900, availability="out of stock")
BLUE_SOCKS = item(4, "Blue Socks", 900)


@dataclass
class FakeOrders:
    """The orders context's contract: priced from the catalog, idempotent on the key."""

    catalog: list[Product]
    link: str | None = "https://buy.stripe.com/test_link"
    placed: dict[str, Order] = field(default_factory=dict)
    calls: list[tuple[str, list[tuple[str, int]]]] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)

    def place(
        self, shop: Shop, lines: Sequence[tuple[str, int]], key: str, buyer: Buyer, now: datetime
    ) -> Placement:
        self.calls.append((key, list(lines)))
        order_id = order_id_for(shop.id, key)
        if order_id in self.placed:
            return Placement(self.placed[order_id], False, ())
        by_sku = {p.retailer_id: p for p in self.catalog}
        problems, order_lines = [], []
        for sku, quantity in lines:
            product = by_sku.get(sku)
            if product is None:
                problems.append(LineProblem(retailer_id=sku, reason="unknown"))
            elif product.availability != "in stock":
                problems.append(LineProblem(retailer_id=sku, reason="out_of_stock", available=0))
            elif product.inventory is not None and product.inventory < quantity:
                problems.append(
                    LineProblem(retailer_id=sku, reason="insufficient", available=product.inventory)
                )
            else:
                unit = product.sale_price or product.price
                order_lines.append(
                    OrderLine(
                        retailer_id=sku,
                        product_id=product.id,
                        title=product.title,
                        quantity=quantity,
                        unit_price=unit,
                        total=Money(amount=unit.amount * quantity, currency=unit.currency),
                        reserved=product.inventory is not None,
                    )
                )
        if problems:
            return Placement(None, False, tuple(problems))
        order = Order(
            id=order_id,
            number=order_number(order_id),
            shop_id=shop.id,
            status="pending_payment",
            lines=order_lines,
            total=Money(amount=sum(line.total.amount for line in order_lines), currency=shop.currency),
            payment_method="stripe_link" if self.link else "on_delivery",
            customer_wa_id=buyer.customer,
            phone_number_id=buyer.phone_number_id,
            placed_at=now,
            expires_at=now + timedelta(minutes=30) if self.link else None,
            updated_at=now,
        )
        self.placed[order_id] = order
        return Placement(order, True, ())

    def latest(self, shop: Shop, buyer: Buyer, limit: int) -> Sequence[Order]:
        mine = [o for o in self.placed.values() if o.customer_wa_id == buyer.customer]
        return sorted(mine, key=lambda o: o.placed_at, reverse=True)[:limit]

    def cancel(self, shop: Shop, order_id: str, buyer: Buyer, now: datetime) -> Cancellation | None:
        order = self.placed.get(order_id)
        if order is None or order.customer_wa_id != buyer.customer:
            return None
        if order.status not in ("pending_payment", "paid"):
            return Cancellation(order, False)
        cancelled = order.model_copy(update={"status": "cancelled"})
        self.placed[order_id] = cancelled
        return Cancellation(cancelled, True)

    def instructions(self, shop: Shop, order: Order) -> Payment:
        url = f"{self.link}?client_reference_id={order.id}" if self.link else None
        in_chat = shop.country in ("IN", "BR")
        return Payment(
            order.payment_method, order.id, url, in_chat, "shop-upi" if shop.country == "IN" else None
        )

    def paid_in_chat(self, shop: Shop, reference_id: str, transaction_id: str, now: datetime) -> Order | None:
        self.paid.append(reference_id)
        order = self.placed.get(reference_id)
        return order.model_copy(update={"status": "paid"}) if order else None


def shop_of(country: str = "US", currency: str = "USD") -> Shop:
    return Shop(
        id="s1",
        merchant_id="m1",
        name="Trail Threads",
        description="",
        country=country,
        currency=currency,
        status="active",
        timezone="America/New_York",
        created_at=START,
        updated_at=START,
    )


@pytest.fixture
def till():
    clock = Clock()
    catalog = [SOCKS, CAP, JACKET, BLUE_SOCKS]
    states, replies = FakeStates(), FakeReplies()
    orders = FakeOrders(catalog)
    catalogs = FakeCatalogs(shop_of(), catalog)
    assistant = Assistant(states, catalogs, replies, FakeQuestions(), clock=clock, orders=orders)
    return assistant, states, replies, orders, clock, catalogs


_count = 0


def send(assistant: Assistant, clock: Clock, text: str | None = None, tap: str | None = None, **extra) -> str:
    global _count
    _count += 1
    data: dict = {
        "id": f"wamid.till{_count}",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "customer_name": "Ana",
        "timestamp": clock.now,
        "type": "interactive" if tap else extra.pop("type", "text"),
        "text": text,
        **extra,
    }
    if tap:
        data["button"] = {"kind": "button_reply", "id": tap, "title": "tapped"}
    reply_id = assistant.on_message("s1", InboundMessage.model_validate(data)).reply_id
    assert reply_id is not None
    return reply_id


def cart_of(states: FakeStates) -> dict[str, int]:
    return {i.retailer_id: i.quantity for i in state(states).cart.items}


# --- The cart ------------------------------------------------------------------------------------------


def test_a_product_card_offers_add_to_cart_and_the_tap_puts_it_in(till):
    assistant, states, replies, _, clock, _ = till
    card = message(replies, send(assistant, clock, tap=f"{intents.SHOW_PREFIX}{SOCKS.id}"))
    assert f"{intents.ADD_PREFIX}{SOCKS.id}" in [b.id for b in card.buttons]

    reply = message(replies, send(assistant, clock, tap=f"{intents.ADD_PREFIX}{SOCKS.id}"))

    assert cart_of(states) == {"SKU-1": 1}
    assert "1 \u00d7 Wool Socks" in reply.body and "$12.00" in reply.body
    assert [b.id for b in reply.buttons] == [intents.CHECKOUT, intents.CART, intents.MENU_BROWSE]


def test_quantities_in_words_add_the_product_named_or_the_one_just_shown(till):
    assistant, states, replies, _, clock, _ = till
    send(assistant, clock, "2 of the wool socks")
    send(assistant, clock, tap=f"{intents.SHOW_PREFIX}{CAP.id}")
    send(assistant, clock, "add 2")
    reply = message(replies, send(assistant, clock, "añade 1 wool socks"))

    assert cart_of(states) == {"SKU-1": 3, "SKU-2": 2}
    assert "$86.00" in reply.body  # 3 x 12.00 + 2 x 25.00


def test_words_that_fit_two_products_ask_which_one_with_rows_that_add_them(till):
    assistant, states, replies, _, clock, _ = till
    reply = message(replies, send(assistant, clock, "add 2 socks"))

    assert reply.type == "list"
    rows = [row.id for section in reply.sections for row in section.rows]
    assert set(rows) == {f"{intents.ADD_PREFIX}{SOCKS.id}:2", f"{intents.ADD_PREFIX}{BLUE_SOCKS.id}:2"}
    assert state(states).cart.empty

    send(assistant, clock, tap=rows[0])
    assert sum(cart_of(states).values()) == 2


def test_what_cannot_be_ordered_is_said_and_stays_out_of_the_cart(till):
    assistant, states, replies, _, clock, _ = till
    gone = message(replies, send(assistant, clock, "add the rain jacket"))
    short = message(replies, send(assistant, clock, "4 of the trail cap"))

    assert "Rain Jacket" in gone.body and "Out of stock" in gone.body
    assert "only 3" in short.body
    assert state(states).cart.empty


def test_the_cart_shows_its_lines_and_total_and_lines_come_out(till):
    assistant, states, replies, _, clock, _ = till
    send(assistant, clock, "2 of the wool socks")
    send(assistant, clock, "add 1 trail cap")

    shown = message(replies, send(assistant, clock, "cart"))
    assert "2 \u00d7 Wool Socks: $24.00" in shown.body and "Total: $49.00" in shown.body
    edit = message(replies, send(assistant, clock, tap=intents.CART_EDIT))
    rows = [row.id for section in edit.sections for row in section.rows]
    assert rows == [
        f"{intents.REMOVE_PREFIX}{SOCKS.id}",
        f"{intents.REMOVE_PREFIX}{CAP.id}",
        intents.CART_EMPTY,
    ]

    after = message(replies, send(assistant, clock, tap=f"{intents.REMOVE_PREFIX}{SOCKS.id}"))
    assert cart_of(states) == {"SKU-2": 1} and "Total: $25.00" in after.body
    send(assistant, clock, "empty the cart")
    assert state(states).cart.empty and state(states).cart.id is None


# --- Checkout --------------------------------------------------------------------------------------------


def test_checkout_places_the_cart_and_answers_with_the_number_lines_total_and_a_pay_button(till):
    assistant, states, replies, orders, clock, _ = till
    send(assistant, clock, "2 of the wool socks")

    reply_id = send(assistant, clock, "checkout")
    reply = message(replies, reply_id)

    key, lines = orders.calls[-1]
    assert lines == [("SKU-1", 2)] and key == reply_id.removeprefix("reply-")
    order = next(iter(orders.placed.values()))
    assert reply.type == "cta_url" and reply.url.endswith(f"client_reference_id={order.id}")
    assert (
        order.number in reply.body and "2 \u00d7 Wool Socks: $24.00" in reply.body and "$24.00" in reply.body
    )
    assert state(states).cart.empty


def test_a_cart_that_cannot_be_ordered_names_every_problem_and_keeps_the_cart(till):
    assistant, states, replies, orders, clock, catalogs = till
    send(assistant, clock, "3 of the trail cap")
    # The cap sells out between the cart and the checkout.
    orders.catalog[1] = CAP.model_copy(update={"inventory": 1})

    reply = message(replies, send(assistant, clock, tap=intents.CHECKOUT))

    assert "Trail Cap: only 1 left" in reply.body
    assert cart_of(states) == {"SKU-2": 3} and not orders.placed


def test_whatsapps_cart_is_ordered_as_sent_keyed_by_its_message(till):
    assistant, _, replies, orders, clock, _ = till
    order = {
        "catalog_id": "cat1",
        "items": [
            {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": "0.01", "currency": "USD"},
            {"product_retailer_id": "SKU-3", "quantity": 1, "item_price": "1", "currency": "USD"},
            {"product_retailer_id": "NOPE", "quantity": 1, "item_price": "1", "currency": "USD"},
        ],
    }

    reply = message(replies, send(assistant, clock, type="order", order=order))

    assert orders.calls[-1][1] == [("SKU-1", 2), ("SKU-3", 1), ("NOPE", 1)]
    assert "Rain Jacket: out of stock" in reply.body and "NOPE: not in our catalog" in reply.body


def test_a_whatsapp_cart_delivered_twice_is_one_order(till):
    assistant, _, replies, orders, clock, _ = till
    order = {
        "catalog_id": "c",
        "items": [{"product_retailer_id": "SKU-1", "quantity": 1, "item_price": 1, "currency": "USD"}],
    }
    data = {
        "id": "wamid.same-cart",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "timestamp": clock.now,
        "type": "order",
        "order": order,
    }

    first = assistant.on_message("s1", InboundMessage.model_validate(data))
    again = assistant.on_message("s1", InboundMessage.model_validate(data))

    assert len(orders.placed) == 1 and again.outcome == "duplicate" and again.reply_id == first.reply_id


def test_in_india_the_summary_is_whatsapps_bill_keyed_by_the_order(till):
    assistant, _, replies, orders, clock, catalogs = till
    catalogs.shop_ = shop_of("IN", "INR")
    orders.catalog[0] = SOCKS.model_copy(update={"price": Money(amount=49900, currency="INR")})

    reply = message(
        replies,
        send(
            assistant,
            clock,
            "order",
            type="order",
            order={
                "catalog_id": "c",
                "items": [
                    {"product_retailer_id": "SKU-1", "quantity": 2, "item_price": 1, "currency": "INR"}
                ],
            },
        ),
    )

    order = next(iter(orders.placed.values()))
    assert reply.type == "order_details" and reply.reference_id == order.id
    assert (
        reply.total.value == 99800 and reply.currency == "INR" and reply.payment_configuration == "shop-upi"
    )


def test_a_captured_payment_in_the_chat_marks_the_order_paid(till):
    assistant, _, _, orders, _, catalogs = till

    turn = assistant.on_payment(
        "s1", PaymentStatus(reference_id="o1", status="captured", transaction_id="t1")
    )
    failed = assistant.on_payment("s1", PaymentStatus(reference_id="o1", status="failed"))

    assert orders.paid == ["o1"] and turn.outcome == "payment-unknown-order"
    assert failed.outcome == "payment-failed"


# --- Following orders --------------------------------------------------------------------------------------


def test_my_order_shows_the_latest_with_their_status_and_cancel_cancels_after_the_tap(till):
    assistant, _, replies, orders, clock, _ = till
    send(assistant, clock, "1 of the wool socks")
    send(assistant, clock, "checkout")
    order = next(iter(orders.placed.values()))

    listed = message(replies, send(assistant, clock, "where is my order?"))
    assert order.number in listed.body and "waiting for payment" in listed.body
    asked = message(replies, send(assistant, clock, "cancel"))
    assert asked.buttons[0].id == f"{intents.CANCEL_PREFIX}{order.id}"
    assert orders.placed[order.id].status == "pending_payment"
    kept = message(replies, send(assistant, clock, tap=asked.buttons[-1].id))
    assert "stays as it is" in kept.body and orders.placed[order.id].status == "pending_payment"

    done = message(replies, send(assistant, clock, tap=asked.buttons[0].id))
    assert orders.placed[order.id].status == "cancelled" and order.number in done.body
    none = message(replies, send(assistant, clock, "cancelar mi pedido"))
    assert none.type == "text"


def test_an_order_past_cancelling_says_where_it_is(till):
    assistant, _, replies, orders, clock, _ = till
    send(assistant, clock, "1 of the wool socks")
    send(assistant, clock, "checkout")
    order = next(iter(orders.placed.values()))
    orders.placed[order.id] = order.model_copy(update={"status": "shipped"})

    reply = message(replies, send(assistant, clock, tap=f"{intents.CANCEL_PREFIX}{order.id}"))

    assert "shipped" in reply.body and orders.placed[order.id].status == "shipped"


# --- The reminder ------------------------------------------------------------------------------------------


def test_a_cart_left_gets_one_reminder_when_due_and_only_inside_the_window(till):
    assistant, states, replies, _, clock, _ = till
    send(assistant, clock, "2 of the wool socks")
    cart = state(states).cart
    assert cart.remind_at == clock.now + timedelta(hours=4)

    early = assistant.on_cart_reminder(NUMBER, CUSTOMER, cart.id)
    clock.now += timedelta(hours=4, minutes=1)
    sent = assistant.on_cart_reminder(NUMBER, CUSTOMER, cart.id)
    again = assistant.on_cart_reminder(NUMBER, CUSTOMER, cart.id)

    assert early.outcome == "reminder-not-due"
    assert sent.outcome == "cart-reminder" and "$24.00" in message(replies, sent.reply_id).body
    assert replies.records[sent.reply_id].reply_to is None
    assert again.outcome == "duplicate"
    assert state(states).cart.reminded and state(states).cart.remind_at is None


def test_a_customer_still_writing_moves_the_reminder_and_a_closed_window_sends_none(till):
    assistant, states, replies, _, clock, _ = till
    send(assistant, clock, "2 of the wool socks")
    clock.now += timedelta(hours=3)
    send(assistant, clock, "hello")
    cart = state(states).cart
    assert cart.remind_at == clock.now + timedelta(hours=4)

    clock.now += timedelta(hours=25)
    turn = assistant.on_cart_reminder(NUMBER, CUSTOMER, cart.id)

    assert turn.outcome == "reminder-skipped" and turn.reply_id is None
    assert state(states).cart.reminded


def test_the_reminder_waits_the_shops_own_cart_reminder_hours(till):
    assistant, states, _, _, clock, catalogs = till
    catalogs.shop_ = shop_of().model_copy(update={"cart_reminder_hours": 2})

    send(assistant, clock, "1 of the wool socks")

    assert state(states).cart.remind_at == clock.now + timedelta(hours=2)


def test_an_advice_list_has_a_row_to_add_each_product_to_the_cart():
    from chatshop.assistant import replies
    from chatshop.assistant.i18n import translator
    from chatshop.assistant.views import ProductView

    advice = replies.advice(translator("en"), [ProductView.of(SOCKS), ProductView.of(CAP)], False, None)

    shown, adding = advice.sections
    assert [row.id for row in shown.rows] == [
        f"{intents.SHOW_PREFIX}{SOCKS.id}",
        f"{intents.SHOW_PREFIX}{CAP.id}",
    ]
    assert adding.title == "Add to cart"
    assert [row.id for row in adding.rows] == [
        f"{intents.ADD_PREFIX}{SOCKS.id}",
        f"{intents.ADD_PREFIX}{CAP.id}",
    ]


def test_a_spanish_customer_fills_the_cart_and_hears_it_in_spanish(till):
    assistant, states, replies, _, clock, catalogs = till
    # A shop that speaks Spanish (its customers' words name its products as the catalog does)
    catalogs.shop_ = shop_of().model_copy(update={"language": "es"})

    reply = message(replies, send(assistant, clock, "añade 2 wool socks al carrito"))
    shown = message(replies, send(assistant, clock, "mi carrito"))

    assert cart_of(states) == {"SKU-1": 2}
    assert "Añadí 2 \u00d7 Wool Socks a tu carrito." in reply.body
    assert [b.title for b in reply.buttons] == ["Pagar pedido", "Ver carrito", "Seguir comprando"]
    assert "Tu carrito:" in shown.body and "24.00" in shown.body


def test_order_this_on_a_card_orders_one_of_it_at_once(till):
    assistant, states, replies, orders, clock, _ = till
    send(assistant, clock, "2 of the trail cap")

    reply_id = send(assistant, clock, tap=f"{intents.ORDER_PREFIX}{SOCKS.id}")

    assert orders.calls[-1] == (reply_id.removeprefix("reply-"), [("SKU-1", 1)])
    assert message(replies, reply_id).type == "cta_url"
    # The cart is the customer's own and stays as it was
    assert cart_of(states) == {"SKU-2": 2}


def test_in_brazil_the_bill_carries_the_shops_payment_link(till):
    assistant, _, replies, orders, clock, catalogs = till
    catalogs.shop_ = shop_of("BR", "BRL")
    orders.catalog[0] = SOCKS.model_copy(update={"price": Money(amount=4990, currency="BRL")})
    items = [{"product_retailer_id": "SKU-1", "quantity": 1, "item_price": 1, "currency": "BRL"}]

    reply = message(replies, send(assistant, clock, type="order", order={"catalog_id": "c", "items": items}))

    order = next(iter(orders.placed.values()))
    assert reply.type == "order_details" and reply.payment_type == "br" and reply.currency == "BRL"
    assert reply.payment_settings[0]["payment_link"]["uri"].endswith(f"client_reference_id={order.id}")
    assert reply.expires_at == int(order.expires_at.timestamp())
