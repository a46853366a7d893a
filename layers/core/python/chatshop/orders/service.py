"""The merchant's side of orders, and the one way any order changes status.

Every actor (the merchant over the API, the customer in the chat, a payment provider, the
reservation expiry) moves an order through :meth:`Orders.move`: the state machine decides, the
store writes conditionally on the status read (and gives stock back in the same transaction), and
the customer is told of the change once. An order that becomes paid is also told to the paid
listener, when there is one (where Shop Ads runs, ``chatshop.ads.attribution.OrderPaidQueue``, which
credits it to the campaign that brought it), and so is a paid order that is refunded (the credit is
taken back): this context knows nothing of what listens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chatshop.platform.errors import NotFound
from chatshop.shops.domain import Page, Shop

from . import lifecycle
from .domain import Actor, Order, OrderStatus, StatusChange
from .notify import Notifier
from .order_store import OrderStore, TransitionLost

_MOVE_ATTEMPTS = 4


class PaidListener(Protocol):
    def order_paid(self, shop: Shop, order: Order) -> None:
        """The order became paid (told again when a move to paid is asked again: be idempotent)."""

    def order_refunded(self, shop: Shop, order: Order) -> None:
        """The paid order was refunded (told again when the refund is asked again: be idempotent)."""


class Orders:
    def __init__(
        self, store: OrderStore, notifier: Notifier | None, paid: PaidListener | None = None
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.paid = paid

    def get(self, shop: Shop, order_id: str) -> Order:
        order = self.store.get(shop.id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id} in this shop.")
        return order

    def list(self, shop: Shop, status: str | None, limit: int, cursor: str | None) -> Page[Order]:
        return self.store.list(shop.id, status, limit, cursor)

    def move(
        self,
        shop: Shop,
        order_id: str,
        to: OrderStatus,
        *,
        by: Actor,
        now: datetime,
        tracking_url: str | None = None,
        payment_reference: str | None = None,
        expected: OrderStatus | None = None,
        order: Order | None = None,
    ) -> Order:
        """Move the order to ``to``. Asking again for the status it has is answered with the order
        as it is (a retried request changes nothing twice); any other move the state machine does
        not allow is IllegalTransition (409). ``expected``: move only from that status (the expiry
        cancels only what is still unpaid), else IllegalTransition."""
        current = order or self.get(shop, order_id)
        for _ in range(_MOVE_ATTEMPTS):
            if current.status == to:
                self._tell(shop, current, by)
                if current.paid_at is not None and to in ("paid", "delivered"):
                    # The first telling may have been lost with the request that made it.
                    self._paid(shop, current)
                if to == "refunded" and current.paid_at is not None:
                    self._refunded(shop, current)
                return current
            if expected is not None and current.status != expected:
                raise lifecycle.IllegalTransition(current, to)
            step = lifecycle.move(current, to)
            after = current.model_copy(
                update={
                    "status": to,
                    "updated_at": now,
                    "history": [*current.history, StatusChange(status=to, at=now, by=by)],
                    "paid_at": now if step.marks_paid else current.paid_at,
                    "tracking_url": tracking_url or current.tracking_url,
                    "payment_reference": payment_reference or current.payment_reference,
                }
            )
            stock_back = (
                [(line.product_id, line.quantity) for line in current.lines if line.reserved]
                if step.releases_stock
                else []
            )
            try:
                self.store.transition(current, after, stock_back)
            except TransitionLost:
                current = self.get(shop, order_id)  # moved by someone else: decide again on what it is
                continue
            self._tell(shop, after, by)
            if step.marks_paid:
                self._paid(shop, after)
            if to == "refunded" and after.paid_at is not None:
                self._refunded(shop, after)
            return after
        raise lifecycle.IllegalTransition(current, to)

    def _paid(self, shop: Shop, order: Order) -> None:
        # A failure is raised: the caller's retry (Stripe's, the merchant's) finds the order paid
        # and tells the listener again, where a swallowed failure would lose the conversion.
        if self.paid is not None:
            self.paid.order_paid(shop, order)

    def _refunded(self, shop: Shop, order: Order) -> None:
        # Raised as _paid's is: a retried refund tells again, and the credit is taken back once.
        if self.paid is not None:
            self.paid.order_refunded(shop, order)

    def _tell(self, shop: Shop, order: Order, by: Actor) -> None:
        # The customer's own moves are answered by the conversation itself, not by an update.
        if self.notifier is not None and by != "customer":
            self.notifier.order_changed(shop, order, by)
