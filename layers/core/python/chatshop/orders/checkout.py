"""Checkout in the chat: what the conversation calls to turn a cart into an order and follow it.

The conversation's single writer (the inbound worker) calls these while the merchant's API and the
payment webhook may move the same orders: every write here is conditional or transactional, so
the calls are safe side by side and safe to repeat.

    checkout = Checkout.from_settings(settings)
    placed = checkout.place_order(shop, [CartLine("SKU-1", 2)], key=wamid, buyer=buyer, now=now)
    if placed.problems:      # name each one to the customer; nothing was reserved
        ...
    else:                    # placed.order: a summary with placed.order.number, lines, total
        how = payment_instructions(shop, placed.order)

Placing is idempotent on ``key`` (the WhatsApp order message id, or the cart id): a second call
with the same key returns the same order with ``created=False`` and reserves nothing more.
Stock is taken in one DynamoDB transaction with the order: all lines or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chatshop.platform.config import Settings
from chatshop.platform.errors import NotFound, ValidationFailed
from chatshop.shops.catalog import product_id_for
from chatshop.shops.domain import Product, Shop
from chatshop.shops.product_store import ProductStore

from . import pricing
from .domain import (
    MAX_LINES,
    MAX_QUANTITY,
    LineProblem,
    Order,
    PaymentMethod,
    StatusChange,
    order_id_for,
    order_number,
)
from .lifecycle import IllegalTransition
from .notify import Notifier
from .order_store import OrderStore, Reservation
from .service import Orders, PaidListener

__all__ = [
    "IN_CHAT_PAYMENT_COUNTRIES",
    "Buyer",
    "CartLine",
    "Checkout",
    "IllegalTransition",
    "LineProblem",
    "PaymentInstructions",
    "Placed",
    "payment_instructions",
]

# Where WhatsApp takes payments in the chat itself (Meta's order_details message, keyed by the
# order's reference_id): India and Brazil.
IN_CHAT_PAYMENT_COUNTRIES = frozenset({"IN", "BR"})
_PLACE_ATTEMPTS = 3


@dataclass(frozen=True)
class CartLine:
    """A product by its ``retailer_id`` (the catalog's SKU, WhatsApp's ``product_retailer_id``) and
    how many. Whatever price a WhatsApp cart claims is not taken: every line is priced again."""

    retailer_id: str
    quantity: int


@dataclass(frozen=True)
class Buyer:
    """The customer placing the order, as the conversation knows them.

    ``source``: where the conversation came from (an ad's referral, a link code), credited to the
    order when it is placed within the shop's ``attribution_window_days`` of ``first_contact_at``;
    otherwise, or without a source, the order is organic. ``language``: the language the customer is
    spoken to in (one of the assistant's), for the updates sent later; None: the shop's."""

    wa_id: str
    phone_number_id: str
    name: str | None = None
    source: dict[str, Any] | None = None
    first_contact_at: datetime | None = None
    language: str | None = None


@dataclass(frozen=True)
class Placed:
    """``order`` when the cart could be ordered (``created``: False when the key had placed it
    before); otherwise ``order`` is None and ``problems`` names every line that cannot be ordered
    (unknown / discontinued / out_of_stock / insufficient, with ``available`` when some are left)."""

    order: Order | None
    created: bool
    problems: list[LineProblem] = field(default_factory=list)


@dataclass(frozen=True)
class PaymentInstructions:
    """How the customer pays, for the order's summary. ``url``: the shop's Stripe Payment Link with
    ``client_reference_id=<order id>``, which the payment webhook reads to mark the order paid.
    ``in_chat_payments``: the shop's country has WhatsApp payments in the chat (India, Brazil): the
    summary may be Meta's ``order_details`` message with ``reference_id`` = the order id."""

    method: PaymentMethod
    reference_id: str
    url: str | None = None
    in_chat_payments: bool = False
    expires_at: datetime | None = None


def payment_instructions(shop: Shop, order: Order) -> PaymentInstructions:
    url = None
    if order.payment_method == "stripe_link" and shop.payment_link:
        url = with_reference(shop.payment_link, order.id)
    return PaymentInstructions(
        method=order.payment_method,
        reference_id=order.id,
        url=url,
        in_chat_payments=shop.country in IN_CHAT_PAYMENT_COUNTRIES,
        expires_at=order.expires_at,
    )


def with_reference(link: str, order_id: str) -> str:
    """A Payment Link with ``client_reference_id`` set to the order id (replacing any it had)."""
    parts = urlsplit(link)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "client_reference_id"]
    query.append(("client_reference_id", order_id))
    return urlunsplit(parts._replace(query=urlencode(query)))


def attribution(shop: Shop, buyer: Buyer, now: datetime) -> dict[str, Any]:
    if not buyer.source or buyer.first_contact_at is None:
        return {"type": "organic"}
    if now - buyer.first_contact_at > timedelta(days=shop.attribution_window_days):
        return {"type": "organic"}
    return dict(buyer.source)


class Checkout:
    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    @classmethod
    def from_settings(cls, settings: Settings, paid: PaidListener | None = None) -> Checkout:
        from chatshop.messaging.conversation_store import ConversationStore
        from chatshop.messaging.outbound_queue import OutboundQueue

        store = OrderStore(settings, ProductStore(settings))
        notifier = Notifier(ConversationStore(settings), OutboundQueue(settings))
        return cls(Orders(store, notifier, paid))

    @property
    def store(self) -> OrderStore:
        return self.orders.store

    def place_order(
        self, shop: Shop, lines: list[CartLine], *, key: str, buyer: Buyer, now: datetime
    ) -> Placed:
        """Price the cart from the catalog and reserve its stock with the order, all or nothing."""
        _check_lines(lines)
        order_id = order_id_for(shop.id, key)
        existing = self.store.get(shop.id, order_id)
        if existing is not None:
            return Placed(order=existing, created=False)
        quantities = pricing.merged((line.retailer_id, line.quantity) for line in lines)
        for _ in range(_PLACE_ATTEMPTS):
            products = self._products(shop, list(quantities))
            priced = pricing.price(shop, quantities, products)
            if priced.problems:
                return Placed(order=None, created=False, problems=priced.problems)
            order = self._new_order(shop, order_id, priced, buyer, now)
            wanted = [products[line.retailer_id] for line in priced.lines]
            reservations = [
                Reservation(
                    self.store.products.stock_take(product, line.quantity)
                    if line.reserved
                    else self.store.products.stock_check(product)
                )
                for product, line in zip(wanted, priced.lines, strict=True)
            ]
            result = self.store.place(order, reservations)
            if result.created:
                return Placed(order=order, created=True)
            if result.existing:
                return Placed(order=self.store.get(shop.id, order_id), created=False)
            problems = self._failed(priced.lines, result.failed_lines or {})
            if problems:
                return Placed(order=None, created=False, problems=problems)
            # The products changed between the read and the transaction in a way that would now
            # pass (stock counted since, or no longer): price again from what they are now.
        return Placed(
            order=None, created=False, problems=self._failed(priced.lines, result.failed_lines or {})
        )

    def latest_orders(self, shop_id: str, wa_id: str, limit: int = 3) -> list[Order]:
        """The customer's latest orders in this shop, newest first."""
        return self.store.latest_for_customer(shop_id, wa_id, limit)

    def cancel_by_customer(self, shop: Shop, order_id: str, wa_id: str, now: datetime) -> Order:
        """Cancel the customer's own order if it has not shipped, giving its stock back.

        NotFound when the order is not theirs; IllegalTransition (its ``current`` says the status)
        when it can no longer be cancelled. No update message is sent for this change: the
        conversation answers the customer itself."""
        order = self.store.get(shop.id, order_id)
        if order is None or order.customer_wa_id != wa_id:
            raise NotFound(f"No order {order_id} of this customer.")
        return self.orders.move(shop, order_id, "cancelled", by="customer", now=now, order=order)

    def mark_paid_in_chat(
        self, shop: Shop, reference_id: str, *, transaction_id: str, now: datetime
    ) -> Order:
        """WhatsApp's payment status webhook said the order (its ``reference_id``) was paid in the
        chat: mark it paid, once (a repeated webhook changes nothing), and tell the customer."""
        return self.orders.move(
            shop, reference_id, "paid", by="payment", now=now, payment_reference=transaction_id
        )

    def _products(self, shop: Shop, retailer_ids: list[str]) -> dict[str, Product | None]:
        ids = {retailer_id: product_id_for(shop.id, retailer_id) for retailer_id in retailer_ids}
        stored = self.store.products.get_many(shop.id, list(ids.values()))
        return {
            retailer_id: (stored[pid].product if pid in stored else None) for retailer_id, pid in ids.items()
        }

    def _new_order(
        self, shop: Shop, order_id: str, priced: pricing.Priced, buyer: Buyer, now: datetime
    ) -> Order:
        online = shop.payment == "stripe_link"
        return Order(
            id=order_id,
            number=order_number(order_id),
            shop_id=shop.id,
            status="pending_payment",
            lines=priced.lines,
            total=priced.total,
            payment_method=shop.payment,
            customer_wa_id=buyer.wa_id,
            phone_number_id=buyer.phone_number_id,
            customer_name=buyer.name,
            language=buyer.language,
            attribution=attribution(shop, buyer, now),
            placed_at=now,
            # Only an order waiting for an online payment holds its stock for a while; one paid on
            # delivery or at pickup holds it until the merchant moves it.
            expires_at=now + timedelta(minutes=shop.reservation_minutes) if online else None,
            updated_at=now,
            history=[StatusChange(status="pending_payment", at=now, by="customer")],
        )

    @staticmethod
    def _failed(lines: list, failed: dict[int, dict[str, Any] | None]) -> list[LineProblem]:
        problems = []
        for index, item in failed.items():
            line = lines[index]
            if item is None:
                problems.append(LineProblem(retailer_id=line.retailer_id, reason="unknown"))
                continue
            inventory = int(item["inventory"]["N"]) if "inventory" in item else None
            availability = item.get("availability", {}).get("S", "in stock")
            problem = pricing.stock_problem(line.retailer_id, availability, inventory, line.quantity)
            if problem is not None:
                problems.append(problem)
        return problems


def _check_lines(lines: list[CartLine]) -> None:
    if not lines:
        raise ValidationFailed(["lines"], "An order needs at least one line.")
    if len({line.retailer_id for line in lines}) > MAX_LINES:
        raise ValidationFailed(["lines"], f"An order holds at most {MAX_LINES} different products.")
    for i, line in enumerate(lines):
        if not isinstance(line.quantity, int) or not 1 <= line.quantity <= MAX_QUANTITY:
            raise ValidationFailed(
                [f"lines.{i}.quantity"], f"A quantity is a whole number from 1 to {MAX_QUANTITY}."
            )
