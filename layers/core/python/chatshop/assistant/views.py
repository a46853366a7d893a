"""What the assistant shows of a product and of a catalog: small values that travel between workers.

A :class:`ProductView` is read from the catalog as it is when the reply is composed, so a reply
never states a price or a stock level the catalog did not have; a :class:`CategoryView` is one row
of the browse menu.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from chatshop.shops.domain import Product
from chatshop.shops.money import Money

# What a customer can order now: the same set the search's in-stock filter uses.
ORDERABLE = frozenset({"in stock", "available for order", "preorder"})


class ProductView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    retailer_id: str
    title: str
    price: Money
    sale_price: Money | None = None
    availability: str
    category: str | None = None

    @classmethod
    def of(cls, product: Product) -> ProductView:
        return cls(
            id=product.id,
            retailer_id=product.retailer_id,
            title=product.title,
            price=product.price,
            sale_price=product.sale_price,
            availability=product.availability,
            category=product.category,
        )

    @property
    def on_sale(self) -> bool:
        return self.sale_price is not None and self.sale_price.amount < self.price.amount


class CategoryView(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    in_stock: int


def category_key(category: str | None) -> str:
    """A short stable id for a category (row ids are at most 200 characters; names may be 250)."""
    return hashlib.sha256((category or "").encode()).hexdigest()[:12]


def category_name(category: str | None) -> str:
    """The category's own name: the last step of Meta's ``Apparel > Socks`` paths."""
    name = (category or "").split(">")[-1].strip()
    # Feeds often write paths in lower case ("apparel > tops"); a menu row starts with a capital.
    return name[:1].upper() + name[1:]


def outline(products: Iterable[Product]) -> list[CategoryView]:
    """The catalog's categories with products that can be ordered, the fullest first."""
    counts: dict[str | None, int] = {}
    for product in products:
        if product.availability in ORDERABLE:
            counts[product.category] = counts.get(product.category, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], category_name(item[0]).casefold()))
    return [CategoryView(key=category_key(c), name=category_name(c), in_stock=n) for c, n in ordered]


def in_category(products: Iterable[Product], key: str) -> list[Product]:
    """The category's orderable products, by title."""
    found = [p for p in products if p.availability in ORDERABLE and category_key(p.category) == key]
    return sorted(found, key=lambda p: (p.title.casefold(), p.id))
