"""Cart lines priced from the shop's catalog, pure: the price a message claims is never read.

Each line is priced at the product's ``sale_price`` when it has one, else its ``price``, in the
shop's currency (the catalog refuses prices in any other). A line that cannot be ordered becomes
a :class:`LineProblem` naming it, never a line silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chatshop.shops.domain import Product, Shop
from chatshop.shops.money import Money

from .domain import LineProblem, OrderLine

# What a customer may order; "out of stock" and "discontinued" are named to them instead.
ORDERABLE = ("in stock", "preorder", "available for order")


@dataclass(frozen=True)
class Priced:
    lines: list[OrderLine]
    problems: list[LineProblem]
    total: Money


def merged(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantities by retailer id, in the order first seen: a product twice in a cart is one line."""
    quantities: dict[str, int] = {}
    for retailer_id, quantity in lines:
        quantities[retailer_id] = quantities.get(retailer_id, 0) + quantity
    return quantities


def problem_of(retailer_id: str, product: Product | None, quantity: int) -> LineProblem | None:
    """Why ``quantity`` of the product cannot be ordered now, or None when it can."""
    if product is None:
        return LineProblem(retailer_id=retailer_id, reason="unknown")
    return stock_problem(retailer_id, product.availability, product.inventory, quantity)


def stock_problem(
    retailer_id: str, availability: str, inventory: int | None, quantity: int
) -> LineProblem | None:
    if availability == "discontinued":
        return LineProblem(retailer_id=retailer_id, reason="discontinued")
    if availability not in ORDERABLE or inventory == 0:
        return LineProblem(retailer_id=retailer_id, reason="out_of_stock", available=0)
    if inventory is not None and inventory < quantity:
        return LineProblem(retailer_id=retailer_id, reason="insufficient", available=inventory)
    return None


def price(shop: Shop, quantities: Mapping[str, int], products: Mapping[str, Product | None]) -> Priced:
    """``quantities`` by retailer id, priced from ``products`` (by retailer id; None: not in the
    catalog)."""
    lines: list[OrderLine] = []
    problems: list[LineProblem] = []
    for retailer_id, quantity in quantities.items():
        product = products.get(retailer_id)
        problem = problem_of(retailer_id, product, quantity)
        if problem is not None or product is None:
            problems.append(problem or LineProblem(retailer_id=retailer_id, reason="unknown"))
            continue
        unit = product.sale_price or product.price
        if unit.currency != shop.currency:
            # Only a catalog written before the currency rule could hold one: not orderable.
            problems.append(LineProblem(retailer_id=retailer_id, reason="unknown"))
            continue
        lines.append(
            OrderLine(
                retailer_id=retailer_id,
                product_id=product.id,
                title=product.title,
                quantity=quantity,
                unit_price=unit,
                total=Money(amount=unit.amount * quantity, currency=unit.currency),
                reserved=product.inventory is not None,
            )
        )
    total = Money(amount=sum(line.total.amount for line in lines), currency=shop.currency)
    return Priced(lines=lines, problems=problems, total=total)
