"""The cart a customer fills in the chat, kept in the conversation's state (pure).

The inbound worker is the state's only writer, so the cart is too: a line is a product and a
quantity, nothing else. Prices are never kept here; the cart is priced from the catalog each time it
is shown, and the order is priced again by the orders context when it is placed.

A cart has an id, drawn when its first line goes in and dropped when it is ordered or emptied: a new
cart is a new id. The abandoned-cart reminder is armed per cart: due ``reminder_after`` after the
customer last wrote while the cart holds something, sent at most once per cart.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from chatshop.shops.money import Money

if TYPE_CHECKING:
    # Every conversation's state holds a cart, so this module loads on the inbound worker's cold
    # start; the catalog's models and the word lists load only when a product goes in or is named.
    from chatshop.shops.domain import Product

# WhatsApp's own cart takes at most 99 of one product; the chat's cart keeps to the same.
MAX_QUANTITY = 99
# A cart longer than this is more than a chat message shows well (and than one order holds easily).
MAX_LINES = 20


class CartItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: str
    retailer_id: str
    # As the product was called when it went in: said even once the catalog has dropped it.
    title: str
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class Cart(BaseModel):
    """A conversation's cart; ``items`` in the order they went in."""

    model_config = ConfigDict(frozen=True)

    id: str | None = None
    items: tuple[CartItem, ...] = ()
    changed_at: datetime | None = None
    # When the reminder is due (None: not armed), and whether this cart was reminded already.
    remind_at: datetime | None = None
    reminded: bool = False

    @property
    def empty(self) -> bool:
        return not self.items

    def quantity_of(self, product_id: str) -> int:
        return next((item.quantity for item in self.items if item.product_id == product_id), 0)

    def units(self) -> int:
        return sum(item.quantity for item in self.items)


class CartFull(Exception):
    """More distinct products than a cart holds."""


@dataclass(frozen=True)
class Added:
    cart: Cart
    quantity: int  # the product's quantity in the cart now
    capped: bool  # the customer asked for more than MAX_QUANTITY in all


def add(cart: Cart, product: Product, quantity: int, now: datetime) -> Added:
    """``quantity`` more of ``product``; a product already in the cart gets its line raised."""
    wanted = cart.quantity_of(product.id) + quantity
    kept = min(wanted, MAX_QUANTITY)
    if cart.quantity_of(product.id) == 0:
        if len(cart.items) >= MAX_LINES:
            raise CartFull(product.id)
        line = CartItem(
            product_id=product.id, retailer_id=product.retailer_id, title=product.title, quantity=kept
        )
        items = (*cart.items, line)
    else:
        items = tuple(
            item.model_copy(update={"quantity": kept}) if item.product_id == product.id else item
            for item in cart.items
        )
    changed = cart.model_copy(update={"id": cart.id or new_cart_id(), "items": items, "changed_at": now})
    return Added(changed, kept, wanted > MAX_QUANTITY)


def remove(cart: Cart, product_id: str, quantity: int | None, now: datetime) -> Cart:
    """``quantity`` fewer of the product (None: the whole line); an emptied cart is no cart."""
    items: list[CartItem] = []
    for item in cart.items:
        if item.product_id != product_id:
            items.append(item)
        elif quantity is not None and quantity < item.quantity:
            items.append(item.model_copy(update={"quantity": item.quantity - quantity}))
    if not items:
        return Cart()
    return cart.model_copy(update={"items": tuple(items), "changed_at": now})


def rearmed(cart: Cart, customer_wrote_at: datetime, after: timedelta) -> Cart:
    """The reminder moved to ``after`` past the customer's latest message: a customer who is still
    writing has not left the cart. A cart reminded once is not reminded again."""
    if cart.empty or cart.reminded:
        return cart.model_copy(update={"remind_at": None}) if cart.remind_at else cart
    due = customer_wrote_at + after
    return cart if cart.remind_at == due else cart.model_copy(update={"remind_at": due})


def reminded(cart: Cart) -> Cart:
    return cart.model_copy(update={"remind_at": None, "reminded": True})


def new_cart_id() -> str:
    return f"ct_{secrets.token_hex(8)}"


# --- Priced for the customer ----------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    item: CartItem
    product: Product | None  # None: no longer in the catalog

    @property
    def unit(self) -> Money | None:
        if self.product is None:
            return None
        return self.product.sale_price or self.product.price

    @property
    def total(self) -> Money | None:
        unit = self.unit
        if unit is None:
            return None
        return Money(amount=unit.amount * self.item.quantity, currency=unit.currency)


def priced(cart: Cart, products: Mapping[str, Product]) -> list[PricedLine]:
    return [PricedLine(item, products.get(item.product_id)) for item in cart.items]


def total(lines: Sequence[PricedLine], currency: str) -> Money:
    """What the cart costs now: its lines that can still be priced in the shop's currency."""
    amount = sum(
        line.total.amount for line in lines if line.total is not None and line.total.currency == currency
    )
    return Money(amount=amount, currency=currency)


# --- Which product the customer means ----------------------------------------------------------------

# Words that name no product: articles and the like, in the four languages.
_NOT_NAMES = frozenset(
    " ".join(
        [
            "the a an one ones of some my that this those these please",
            "el la los las un una unos unas uno de del mi mis ese esa esos esas este esta por favor",
            "o os as um uma uns umas do da dos das meu minha meus minhas esse essa esses essas",
            "वो वह यह ये वाला वाली वाले का की के",
        ]
    ).split()
)


def _terms(text: str) -> list[str]:
    from .vocabulary import singular, words

    return [singular(w) for w in words(text) if w not in _NOT_NAMES]


def match(what: str, candidates: Iterable[Product]) -> list[Product]:
    """The products ``what`` names best ("the socks", "blue tee"), best first; several when the
    words fit several equally (the customer is asked which), none when no word fits."""
    terms = _terms(what)
    if not terms:
        return []
    scored: dict[str, tuple[float, Product]] = {}
    for product in candidates:
        title = set(_terms(product.title)) | {product.retailer_id.casefold()}
        hits = sum(1 for term in terms if term in title)
        if hits:
            scored.setdefault(product.id, (hits / len(terms), product))
    if not scored:
        return []
    best = max(score for score, _ in scored.values())
    found = [product for score, product in scored.values() if score == best]
    return sorted(found, key=lambda p: (len(p.title), p.title.casefold()))
