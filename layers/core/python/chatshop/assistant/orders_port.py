"""The orders context (``chatshop.orders.checkout``) as the till reaches it: placing the chat's
carts and WhatsApp's, the customer's latest orders, cancelling one, how to pay, and WhatsApp's
in-chat payments.

Only public functions of the orders context are called; its errors become the till's answers (an
order not the customer's is no order; one past cancelling says where it is).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chatshop.platform.errors import NotFound, ValidationFailed
from chatshop.shops.domain import Shop

from .till import Buyer, Cancellation, Payment, Placement

if TYPE_CHECKING:
    from chatshop.orders.checkout import Checkout
    from chatshop.orders.domain import Order

# The name India's payment configuration has in WhatsApp Manager when the shop sets none.
DEFAULT_PAYMENT_CONFIGURATION = "chatshop"


class CheckoutOrders:
    """``checkout`` is made on first use: a container whose messages never reach the till (most are
    Meta's statuses and questions) does not load the orders context."""

    def __init__(self, checkout: Callable[[], Checkout]) -> None:
        self._make = checkout
        self._made: Checkout | None = None

    @property
    def _checkout(self) -> Checkout:
        if self._made is None:
            self._made = self._make()
        return self._made

    def place(
        self, shop: Shop, lines: Sequence[tuple[str, int]], key: str, buyer: Buyer, now: datetime
    ) -> Placement:
        from chatshop.orders.checkout import Buyer as OrderBuyer
        from chatshop.orders.checkout import CartLine

        who = OrderBuyer(
            wa_id=buyer.customer,
            phone_number_id=buyer.phone_number_id,
            name=buyer.name,
            source=dict(buyer.source) if buyer.source else None,
            first_contact_at=buyer.first_contact_at,
            language=buyer.language,
        )
        try:
            placed = self._checkout.place_order(
                shop,
                [CartLine(retailer_id, quantity) for retailer_id, quantity in lines],
                key=key,
                buyer=who,
                now=now,
            )
        except ValidationFailed:
            # A cart beyond what one order holds (WhatsApp's cart has no such limit): not placed,
            # said to the customer like any other problem.
            return Placement(order=None, created=False, problems=())
        return Placement(order=placed.order, created=placed.created, problems=tuple(placed.problems))

    def latest(self, shop: Shop, buyer: Buyer, limit: int) -> Sequence[Order]:
        return self._checkout.latest_orders(shop.id, buyer.customer, limit)

    def cancel(self, shop: Shop, order_id: str, buyer: Buyer, now: datetime) -> Cancellation | None:
        from chatshop.orders.checkout import IllegalTransition

        try:
            return Cancellation(self._checkout.cancel_by_customer(shop, order_id, buyer.customer, now), True)
        except NotFound:
            return None
        except IllegalTransition:
            order = self._checkout.store.get(shop.id, order_id)
            return Cancellation(order, False) if order is not None else None

    def instructions(self, shop: Shop, order: Order) -> Payment:
        from chatshop.orders.checkout import payment_instructions

        how = payment_instructions(shop, order)
        configuration = getattr(shop, "whatsapp_payment_configuration", None) or DEFAULT_PAYMENT_CONFIGURATION
        return Payment(
            method=how.method,
            reference_id=how.reference_id,
            url=how.url,
            in_chat=how.in_chat_payments,
            configuration=configuration if shop.country == "IN" else None,
        )

    def paid_in_chat(self, shop: Shop, reference_id: str, transaction_id: str, now: datetime) -> Order | None:
        """WhatsApp said the bill ``reference_id`` was paid: the order marked paid, once."""
        from chatshop.orders.checkout import IllegalTransition

        try:
            return self._checkout.mark_paid_in_chat(
                shop, reference_id, transaction_id=transaction_id, now=now
            )
        except (NotFound, IllegalTransition):
            return None
