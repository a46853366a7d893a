"""A customer's orders in one shop: read for an export, kept under a pseudonym by an erasure.

An order is the merchant's tax record, so it is not deleted: its number, name and Meta's click id
are taken out and the customer's pseudonym put in their place. What the order says of goods,
money, dates and where it was credited (an ad's or link's id) stays.
"""

from __future__ import annotations

from typing import Any

from chatshop.orders.domain import Order
from chatshop.orders.order_store import OrderStore

# Meta's click id of an ad names one person's click: not kept on a record kept for tax.
_PERSONAL_ATTRIBUTION = ("ctwa_clid",)
_REWRITE_ATTEMPTS = 5


def export_orders(store: OrderStore, shop_id: str, wa_id: str) -> list[dict[str, Any]]:
    return [order.model_dump(mode="json") for order, _doc in store.all_for_customer(shop_id, wa_id)]


def pseudonymised(order: Order, pseudonym: str) -> Order:
    attribution = {
        name: value for name, value in order.attribution.items() if name not in _PERSONAL_ATTRIBUTION
    }
    return order.model_copy(
        update={
            "customer_wa_id": None,
            "customer_name": None,
            "customer_pseudonym": pseudonym,
            "attribution": attribution,
        }
    )


def pseudonymise_orders(store: OrderStore, shop_id: str, wa_id: str, pseudonym: str) -> int:
    """Rewrite every order of the customer under ``pseudonym``; how many were rewritten. An order
    that moved meanwhile is read again, so a shipment at that moment is neither lost nor left named."""
    done = 0
    for _attempt in range(_REWRITE_ATTEMPTS):
        pending = store.all_for_customer(shop_id, wa_id)
        if not pending:
            return done
        done += sum(store.rewrite(doc, pseudonymised(order, pseudonym)) for order, doc in pending)
    if store.all_for_customer(shop_id, wa_id):
        raise RuntimeError("orders kept changing while they were being pseudonymised; try again")
    return done
