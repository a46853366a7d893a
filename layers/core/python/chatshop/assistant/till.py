"""The chat as a till: the cart, checkout, the customer's orders and the abandoned-cart reminder.

Each function takes the conversation as it stands and says what to send and what the state becomes
(a :class:`Step`); the dialogue stores the reply and the state, in that order, as for every other
answer. Placing and cancelling orders are the orders context's (``chatshop.orders``), reached
through :class:`Orders`; prices come from the catalog, never from a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chatshop.messaging.outbound import OutboundMessage, window_open
from chatshop.shops.domain import Product, Shop

from . import cart as carts
from . import cart_replies, phrases, replies
from .i18n import Translator
from .intents import Intent
from .state import ConversationState
from .views import ORDERABLE, ProductView

if TYPE_CHECKING:
    from chatshop.orders.domain import LineProblem, Order

# The orders a customer is shown when they ask for theirs.
LATEST_ORDERS = 3
CANCELLABLE = frozenset({"pending_payment", "paid"})


@dataclass(frozen=True)
class Buyer:
    """Who orders, as the conversation knows them."""

    phone_number_id: str
    customer: str
    name: str | None
    language: str
    conversation_id: str
    # Where the conversation came from, and when, for crediting the order to it.
    source: dict[str, object] | None = None
    first_contact_at: datetime | None = None


@dataclass(frozen=True)
class Placement:
    order: Order | None
    created: bool
    problems: Sequence[LineProblem]


@dataclass(frozen=True)
class Cancellation:
    order: Order
    cancelled: bool  # False: it had moved past cancelling (``order.status`` says where)


@dataclass(frozen=True)
class Payment:
    """How an order is paid: ``method`` as the orders context has it; ``url`` the payment link;
    ``in_chat``: WhatsApp takes the payment in the chat (India, Brazil), keyed by ``reference_id``;
    ``configuration``: the shop's payment configuration in WhatsApp Manager (India)."""

    method: str
    reference_id: str
    url: str | None = None
    in_chat: bool = False
    configuration: str | None = None


class Orders(Protocol):
    """The orders context as the till reaches it (``chatshop.assistant.orders_port`` wires it)."""

    def place(
        self, shop: Shop, lines: Sequence[tuple[str, int]], key: str, buyer: Buyer, now: datetime
    ) -> Placement: ...

    def latest(self, shop: Shop, buyer: Buyer, limit: int) -> Sequence[Order]: ...

    def cancel(self, shop: Shop, order_id: str, buyer: Buyer, now: datetime) -> Cancellation | None: ...

    def instructions(self, shop: Shop, order: Order) -> Payment: ...

    def paid_in_chat(self, shop: Shop, reference_id: str, transaction_id: str, now: datetime) -> Order | None:
        """WhatsApp took the payment of the bill ``reference_id``; None: no such order to pay."""


class Products(Protocol):
    def products(self, shop_id: str) -> Sequence[Product]: ...

    def products_by_id(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Product]: ...

    def catalog_id(self, shop_id: str) -> str | None: ...


@dataclass(frozen=True)
class Step:
    state: ConversationState
    reply: OutboundMessage
    outcome: str


def reminder_after(shop: Shop) -> timedelta:
    return timedelta(hours=shop.cart_reminder_hours)


# --- The cart ------------------------------------------------------------------------------------------


def add(
    catalog: Products, shop: Shop, state: ConversationState, t: Translator, intent: Intent, now: datetime
) -> Step:
    """A tap on "Add to cart" (``add:<id>`` or ``add:<id>:<quantity>``) or words ("add 2", "2 of
    the socks"): the product found, checked orderable, and put in the cart."""
    quantity = intent.quantity or 1
    if intent.words:
        found = _named(catalog, shop, state, t, intent.value)
        if isinstance(found, Step):
            return found
        if len(found) > 1:
            return Step(state, cart_replies.which(t, found, quantity), "add-which")
        product = found[0]
    else:
        product_id, _, count = (intent.value or "").partition(":")
        if count.isdigit() and int(count) > 0:
            quantity = int(count)
        product = catalog.products_by_id(shop.id, [product_id]).get(product_id)
        if product is None:
            return Step(state, replies.text(t, phrases.PRODUCT_GONE), "product-gone")
    return _put(catalog, shop, state, t, product, quantity, now)


def _named(
    catalog: Products, shop: Shop, state: ConversationState, t: Translator, what: str | None
) -> list[Product] | Step:
    """The products the customer's words name, nearest first: those just shown, else the catalog;
    no words: the one product just shown."""
    by_id = catalog.products_by_id(shop.id, list(state.shown)) if state.shown else {}
    shown = [by_id[pid] for pid in state.shown if pid in by_id]
    if not what:
        if len(shown) == 1:
            return shown
        return Step(state, replies.text(t, phrases.ADD_WHAT), "add-what")
    found = carts.match(what, shown) or carts.match(what, catalog.products(shop.id))
    orderable = [p for p in found if p.availability in ORDERABLE]
    # Of products the words fit equally, those that can be ordered; one that cannot is named as such.
    found = orderable or found[:1]
    if not found:
        reply = replies.text(t, phrases.ADD_NOT_FOUND, what=replies.cut(what, 60))
        return Step(state, reply, "add-not-found")
    return found


def _put(
    catalog: Products,
    shop: Shop,
    state: ConversationState,
    t: Translator,
    product: Product,
    quantity: int,
    now: datetime,
) -> Step:
    if product.availability not in ORDERABLE:
        reply = replies.text(
            t,
            phrases.NOT_ORDERABLE,
            title=replies.cut(product.title, 80),
            availability=_availability(t, product),
        )
        return Step(state, reply, "not-orderable")
    wanted = state.cart.quantity_of(product.id) + quantity
    if product.inventory is not None and product.inventory < min(wanted, carts.MAX_QUANTITY):
        # Told now rather than at checkout; the order still takes the stock atomically then.
        reply = replies.text(
            t, phrases.ONLY_LEFT, available=t.number(product.inventory), title=replies.cut(product.title, 80)
        )
        return Step(state, reply, "only-left")
    try:
        added = carts.add(state.cart, product, quantity, now)
    except carts.CartFull:
        return Step(state, cart_replies.cart_full(t), "cart-full")
    cart = carts.rearmed(added.cart, state.last_message_at or now, reminder_after(shop))
    lines = _priced(catalog, shop, cart)
    reply = cart_replies.added(t, product.title, added.quantity, added.capped, lines, shop.currency)
    return Step(_with_cart(state, cart, shown=(product.id,)), reply, "added")


def show(catalog: Products, shop: Shop, state: ConversationState, t: Translator) -> Step:
    lines = _priced(catalog, shop, state.cart)
    return Step(_reset(state), cart_replies.cart_view(t, lines, shop.currency), "cart")


def edit(catalog: Products, shop: Shop, state: ConversationState, t: Translator) -> Step:
    if state.cart.empty:
        return show(catalog, shop, state, t)
    return Step(_reset(state), cart_replies.cart_edit(t, state.cart), "cart-edit")


def remove(
    catalog: Products, shop: Shop, state: ConversationState, t: Translator, intent: Intent, now: datetime
) -> Step:
    if state.cart.empty:
        return show(catalog, shop, state, t)
    if intent.words:
        if not intent.value:
            return Step(
                state, cart_replies.cart_edit(t, state.cart, t.text(phrases.REMOVE_WHAT)), "remove-which"
            )
        in_cart = catalog.products_by_id(shop.id, [item.product_id for item in state.cart.items])
        known = [in_cart[i.product_id] for i in state.cart.items if i.product_id in in_cart]
        found = carts.match(intent.value, known)
        if len(found) != 1:
            if not found:
                reply = replies.text(t, phrases.NOT_IN_CART, what=replies.cut(intent.value, 60))
                return Step(state, reply, "not-in-cart")
            return Step(
                state, cart_replies.cart_edit(t, state.cart, t.text(phrases.REMOVE_WHAT)), "remove-which"
            )
        product_id = found[0].id
    else:
        product_id = intent.value or ""
    line = next((item for item in state.cart.items if item.product_id == product_id), None)
    if line is None:
        return show(catalog, shop, state, t)
    cart = carts.rearmed(
        carts.remove(state.cart, product_id, intent.quantity, now),
        state.last_message_at or now,
        reminder_after(shop),
    )
    left = cart.quantity_of(product_id)
    title = replies.cut(line.title, 80)
    if left:
        intro = t.text(
            phrases.REMOVED_SOME, quantity=t.number(line.quantity - left), title=title, left=t.number(left)
        )
    else:
        intro = t.text(phrases.REMOVED, title=title)
    lines = _priced(catalog, shop, cart)
    return Step(_with_cart(state, cart), cart_replies.cart_view(t, lines, shop.currency, intro), "removed")


def empty(state: ConversationState, t: Translator) -> Step:
    return Step(_with_cart(state, carts.Cart()), replies.text(t, phrases.CART_EMPTIED), "cart-emptied")


# --- Checkout ------------------------------------------------------------------------------------------


def checkout(
    orders: Orders,
    catalog: Products,
    shop: Shop,
    state: ConversationState,
    t: Translator,
    key: str,
    now: datetime,
) -> Step:
    """The chat's cart ordered, keyed by the message that asked (a redelivery finds the same order)."""
    if state.cart.empty:
        return show(catalog, shop, state, t)
    lines = [(item.retailer_id, item.quantity) for item in state.cart.items]
    titles = {item.retailer_id: item.title for item in state.cart.items}
    placed = orders.place(shop, lines, key, _buyer(state, t), now)
    if placed.order is None:
        return Step(state, _problems(t, placed.problems, titles), "order-problems")
    # Ordered: the cart is gone, and with it its reminder.
    done = _with_cart(state, carts.Cart())
    return Step(done, summary(orders, catalog, shop, t, placed.order), "order-placed")


def order_message(
    orders: Orders,
    catalog: Products,
    shop: Shop,
    state: ConversationState,
    t: Translator,
    message_id: str,
    items: Sequence[tuple[str, int]],
    now: datetime,
) -> Step:
    """WhatsApp's own cart, sent as an order: ordered as sent, keyed by its WhatsApp id. The prices
    it claims are not read; the orders context prices every line from the catalog."""
    placed = orders.place(shop, list(items), message_id, _buyer(state, t), now)
    if placed.order is None:
        wanted = {retailer_id for retailer_id, _ in items}
        titles = {p.retailer_id: p.title for p in catalog.products(shop.id) if p.retailer_id in wanted}
        return Step(_reset(state), _problems(t, placed.problems, titles), "order-problems")
    return Step(_reset(state), summary(orders, catalog, shop, t, placed.order), "order-placed")


def _problems(t: Translator, problems: Sequence[LineProblem], titles: dict[str, str]) -> OutboundMessage:
    return cart_replies.problems(
        t, [(p.retailer_id, p.available) for p in problems], titles, [p.reason for p in problems]
    )


def summary(orders: Orders, catalog: Products, shop: Shop, t: Translator, order: Order) -> OutboundMessage:
    """The order's number, lines and total, and how to pay it."""
    total_said = replies.money(t, order.total)
    said = cart_replies.order_summary(
        t,
        order.number,
        [(line.title, line.quantity, replies.money(t, line.total)) for line in order.lines],
        total_said,
    )
    hold_until = moment(t, order.expires_at, shop.timezone) if order.expires_at else None
    pay = orders.instructions(shop, order)
    currency = order.total.currency
    # India pays in the chat through the shop's payment configuration; Brazil needs a way to pay
    # (its payment link) inside the bill.
    in_chat = pay.in_chat and (
        (currency == "INR" and pay.configuration is not None) or (currency == "BRL" and pay.url is not None)
    )
    if in_chat:
        return cart_replies.pay_in_chat(
            t,
            said,
            total_said,
            shop_name=replies.cut(shop.name, 30),
            number=order.number,
            reference_id=pay.reference_id,
            currency=currency,
            items=[
                (line.retailer_id, line.title, line.quantity, line.unit_price.amount) for line in order.lines
            ],
            total_minor=order.total.amount,
            hold_until=hold_until,
            expires_at=order.expires_at,
            payment_configuration=pay.configuration,
            payment_link=pay.url,
            catalog_id=catalog.catalog_id(shop.id),
        )
    if pay.url:
        return cart_replies.pay_by_link(t, said, total_said, pay.url, hold_until)
    return cart_replies.pay_on_delivery(t, said, total_said, at_pickup=pay.method == "at_pickup")


# --- The customer's orders -----------------------------------------------------------------------------


def my_orders(orders: Orders, shop: Shop, state: ConversationState, t: Translator) -> Step:
    found = list(orders.latest(shop, _buyer(state, t), LATEST_ORDERS))
    shown = [
        (
            order.number,
            moment(t, order.placed_at, shop.timezone, date_only=True),
            replies.money(t, order.total),
            order.status,
            order.tracking_url,
        )
        for order in found
    ]
    cancellable = [(order.id, order.number) for order in found if order.status in CANCELLABLE]
    return Step(_reset(state), cart_replies.orders_list(t, shop.name, shown, cancellable), "orders")


def cancel(
    orders: Orders, shop: Shop, state: ConversationState, t: Translator, intent: Intent, now: datetime
) -> Step:
    """Words ask which order (the buttons confirm it); a tap on "Cancel <number>" cancels it."""
    buyer = _buyer(state, t)
    if intent.words or not intent.value:
        cancellable = [
            (order.id, order.number)
            for order in orders.latest(shop, buyer, LATEST_ORDERS)
            if order.status in CANCELLABLE
        ]
        if not cancellable:
            return Step(_reset(state), replies.text(t, phrases.CANCEL_NONE), "cancel-none")
        return Step(_reset(state), cart_replies.cancel_which(t, cancellable), "cancel-which")
    if intent.value == cart_replies.KEEP:
        return Step(_reset(state), replies.text(t, phrases.CANCEL_KEPT), "cancel-kept")
    done = orders.cancel(shop, intent.value, buyer, now)
    if done is None:
        return Step(_reset(state), replies.text(t, phrases.CANCEL_NONE), "cancel-none")
    if not done.cancelled:
        status = t.text(cart_replies.STATUS_WORDS[done.order.status])
        reply = replies.text(t, phrases.CANCEL_TOO_LATE, number=done.order.number, status=status)
        return Step(_reset(state), reply, "cancel-too-late")
    return Step(_reset(state), replies.text(t, phrases.CANCEL_DONE, number=done.order.number), "cancelled")


# --- The reminder --------------------------------------------------------------------------------------


def reminder(
    catalog: Products, shop: Shop, state: ConversationState, t: Translator, cart_id: str, now: datetime
) -> Step | ConversationState | None:
    """The reminder for ``cart_id``, if it is still due: a Step to send; a state to save without a
    word (the window closed, a person holds the chat: disarmed); None when there is nothing to do
    (another cart now, already reminded, or moved later by a newer message)."""
    cart = state.cart
    if cart.id != cart_id or cart.empty or cart.reminded or cart.remind_at is None or cart.remind_at > now:
        return None
    quiet = _with_cart(state, carts.reminded(cart))
    if state.holder != "assistant" or shop.status != "active" or not window_open(state.last_message_at, now):
        return quiet
    lines = _priced(catalog, shop, cart)
    return Step(quiet, cart_replies.reminder(t, lines, shop.currency), "cart-reminder")


# --- Shared ----------------------------------------------------------------------------------------------


def _buyer(state: ConversationState, t: Translator) -> Buyer:
    return Buyer(
        phone_number_id=state.phone_number_id,
        customer=state.customer,
        name=state.customer_name,
        language=t.language,
        conversation_id=state.conversation_id,
        source=getattr(state, "source", None),
        first_contact_at=getattr(state, "first_contact_at", None),
    )


def _priced(catalog: Products, shop: Shop, cart: carts.Cart) -> list[carts.PricedLine]:
    if cart.empty:
        return []
    products = catalog.products_by_id(shop.id, [item.product_id for item in cart.items])
    return carts.priced(cart, products)


def _with_cart(
    state: ConversationState, cart: carts.Cart, shown: tuple[str, ...] | None = None
) -> ConversationState:
    update: dict[str, object] = {"cart": cart, "failures": 0}
    if shown is not None:
        update["shown"] = shown
    return state.model_copy(update=update)


def _reset(state: ConversationState) -> ConversationState:
    return state.model_copy(update={"failures": 0})


def _availability(t: Translator, product: Product) -> str:
    return replies.availability(t, ProductView.of(product))


def moment(t: Translator, at: datetime, timezone: str, date_only: bool = False) -> str:
    """A time as the customer's locale writes it, in the shop's time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_datetime

    local = at.astimezone(ZoneInfo(timezone))
    if date_only:
        return format_date(local, format="medium", locale=t.locale)
    return format_datetime(local, format="short", locale=t.locale)
