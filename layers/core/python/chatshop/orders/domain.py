"""Plain domain models of the orders context: what is stored, shown and taken; no storage concerns."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.shops.domain import Url
from chatshop.shops.money import Money

OrderStatus = Literal["pending_payment", "paid", "shipped", "delivered", "cancelled", "refunded"]
ORDER_STATUSES: tuple[OrderStatus, ...] = (
    "pending_payment",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
)
# How the customer pays: on delivery, at the shop's counter, or through the shop's Stripe Payment
# Link (in India and Brazil the chat may also take it with WhatsApp's own payments).
PaymentMethod = Literal["on_delivery", "at_pickup", "stripe_link"]
ProblemReason = Literal["unknown", "discontinued", "out_of_stock", "insufficient"]
# Who moved an order: the merchant over the API, the customer in the chat, a payment provider, or
# the reservation expiry.
Actor = Literal["merchant", "customer", "payment", "expiry"]

MAX_LINES = 50  # distinct products in one order: one transaction holds the order and every line
MAX_QUANTITY = 10_000


class LineProblem(BaseModel):
    """Why a cart line cannot be ordered; ``available`` is what is left when there is some."""

    model_config = ConfigDict(frozen=True)

    retailer_id: str
    reason: ProblemReason
    available: int | None = None


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    retailer_id: str
    product_id: str
    title: str
    quantity: int
    unit_price: Money
    total: Money
    # Whether stock was taken for this line (the product counts its inventory): only such lines
    # give stock back when the order is cancelled or refunded.
    reserved: bool


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: OrderStatus
    at: datetime
    by: Actor


class Order(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: str = Field(description="The short number the customer is told, e.g. 7KQ2-MX4D.")
    shop_id: str
    status: OrderStatus
    lines: list[OrderLine]
    total: Money
    payment_method: PaymentMethod
    customer_wa_id: str | None = None
    phone_number_id: str | None = None
    customer_name: str | None = None
    # Set when the customer was erased: the order stays the merchant's tax record under this name,
    # with no number and no name.
    customer_pseudonym: str | None = None
    # The language the customer is spoken to in (one of the assistant's), None: the shop's.
    language: str | None = None
    # Where the customer came from when the order is credited to it (an ad, a link), else organic.
    attribution: dict[str, Any] = Field(default_factory=lambda: {"type": "organic"})
    tracking_url: str | None = None
    payment_reference: str | None = None
    placed_at: datetime
    # Unpaid orders paid online hold their stock until then; None: no expiry.
    expires_at: datetime | None = None
    paid_at: datetime | None = None
    updated_at: datetime
    history: list[StatusChange] = []


class OrderTransition(BaseModel):
    """``POST /shops/{shop_id}/orders/{order_id}/transitions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: Literal["paid", "shipped", "delivered", "cancelled", "refunded"]
    tracking_url: Url | None = Field(default=None, description="Where the customer follows the parcel.")


def order_id_for(shop_id: str, key: str) -> str:
    """Derived from the order's key (the WhatsApp order message id, or the cart id), so a second
    delivery of the same order finds the same id and creates nothing."""
    digest = hashlib.sha256(f"{shop_id}\x00order\x00{key}".encode()).hexdigest()
    return f"o{digest[:31]}"


def order_number(order_id: str) -> str:
    """A short number to say and type: 40 bits of the id in base32, e.g. ``7KQ2-MX4D``."""
    raw = base64.b32encode(bytes.fromhex(order_id[1:11])).decode()
    return f"{raw[:4]}-{raw[4:8]}"


OrderKey = Annotated[str, StringConstraints(min_length=1, max_length=256)]
