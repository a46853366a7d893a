"""The order's state machine, pure: which moves are allowed, and what each one does to stock.

    pending_payment -> paid -> shipped -> delivered
    cancelled:  before shipping (from pending_payment or paid)
    refunded:   after payment (from paid, shipped, delivered, or a cancelled order that was paid)

Two payment methods bend the line where the money comes later: an order paid on delivery may be
shipped unpaid (it is paid when delivered), one paid at pickup is delivered from paid, unshipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatshop.platform.errors import Conflict

from .domain import Order, OrderStatus


class IllegalTransition(Conflict):
    """A move the order's current status does not allow (409, naming the current status)."""

    code = "illegal_transition"

    def __init__(self, order: Order, to: str) -> None:
        self.current = order.status
        super().__init__(
            f"Order {order.number} is {order.status}; it cannot become {to}.",
            details={"current_status": order.status, "requested": to},
        )


@dataclass(frozen=True)
class Move:
    to: OrderStatus
    # The stock the order holds goes back to the catalog.
    releases_stock: bool
    # The order counts as paid from this move on.
    marks_paid: bool


_FLOW: dict[OrderStatus, frozenset[OrderStatus]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}


def allowed(order: Order) -> frozenset[OrderStatus]:
    moves = set(_FLOW[order.status])
    if order.status == "pending_payment" and order.payment_method == "on_delivery":
        moves.add("shipped")
    if order.status == "paid" and order.payment_method == "at_pickup":
        moves.add("delivered")
    if order.status == "shipped" and order.paid_at is None:
        moves.discard("refunded")  # nothing was paid yet (on delivery): nothing to give back
    if order.status == "cancelled" and order.paid_at is not None:
        moves.add("refunded")
    return frozenset(moves)


def move(order: Order, to: OrderStatus) -> Move:
    """The move from the order's status to ``to``, or IllegalTransition."""
    if to not in allowed(order):
        raise IllegalTransition(order, to)
    # Stock comes back when goods never left (cancel) or are not delivered (refund before delivery);
    # a cancelled order gave its stock back already.
    releases = to == "cancelled" or (to == "refunded" and order.status in ("paid", "shipped"))
    marks_paid = order.paid_at is None and (
        to == "paid" or (to == "delivered" and order.payment_method == "on_delivery")
    )
    return Move(to=to, releases_stock=releases, marks_paid=marks_paid)


def is_final(status: OrderStatus) -> bool:
    return not _FLOW[status]
