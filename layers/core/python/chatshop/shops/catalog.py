"""Products of a shop's catalog: create, read, list, change with optimistic concurrency, delete."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from pydantic import ValidationError

from chatshop.platform.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)

from .domain import Merchant, Page, Product, ProductCreate, ProductPatch, Shop
from .lookup import CatalogLookup
from .product_store import DuplicateProduct, ProductNotFound, ProductStore, StaleProduct, StoredVersion
from .shops import require_owner


def product_id_for(shop_id: str, retailer_id: str) -> str:
    """Derived, not random: the retailer_id is the product's identity in its shop (Meta's feed id),
    so the storage key itself keeps it unique and a feed row finds its product without an index."""
    digest = hashlib.sha256(f"{shop_id}\x00{retailer_id}".encode()).hexdigest()
    return f"p{digest[:31]}"


def content_hash(fields: ProductCreate) -> str:
    canonical = json.dumps(fields.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def require_shop_currency(shop: Shop, fields: ProductCreate) -> None:
    if fields.price.currency != shop.currency:
        raise ValidationFailed(["price.currency"], f"Prices in this shop are in {shop.currency}.")


def new_product(shop: Shop, fields: ProductCreate, now: datetime) -> Product:
    return Product(
        id=product_id_for(shop.id, fields.retailer_id),
        shop_id=shop.id,
        version=1,
        created_at=now,
        updated_at=now,
        **fields.model_dump(),
    )


def changed_product(current: Product, fields: ProductCreate, now: datetime) -> Product:
    return Product(
        id=current.id,
        shop_id=current.shop_id,
        images=current.images,
        version=current.version + 1,
        created_at=current.created_at,
        updated_at=now,
        **fields.model_dump(),
    )


def create_product(store: ProductStore, shop: Shop, fields: ProductCreate) -> Product:
    require_shop_currency(shop, fields)
    product = new_product(shop, fields, datetime.now(UTC))
    try:
        store.create(product, content_hash(fields))
    except DuplicateProduct:
        raise Conflict(
            f"A product with retailer_id {fields.retailer_id!r} already exists in this shop.",
            details={"field": "retailer_id", "product_id": product.id},
        ) from None
    return product


def get_product(store: ProductStore, shop: Shop, product_id: str) -> Product:
    return _require_product(store.get(shop.id, product_id), product_id)


def owned_product(
    lookup: CatalogLookup, merchant: Merchant, shop_id: str, product_id: str
) -> tuple[Shop, Product]:
    """The merchant's shop and its product, read together: 404/403 for the shop, then 404."""
    shop, stored = lookup.shop_and_product(shop_id, product_id)
    owned = require_owner(shop, merchant, shop_id)
    return owned, _require_product(stored, product_id)


def _require_product(stored: StoredVersion | None, product_id: str) -> Product:
    if stored is None:
        raise NotFound(f"No product {product_id} in this shop.")
    return stored.product


def list_products(
    store: ProductStore,
    shop: Shop,
    limit: int,
    cursor: str | None,
    availability: str | None = None,
    category: str | None = None,
) -> Page[Product]:
    return store.list(shop.id, limit, cursor, availability, category)


def update_product(
    store: ProductStore, shop: Shop, current: Product, patch: ProductPatch, if_match: str | None
) -> Product:
    """Apply ``patch`` if the client saw the latest version (its ETag in ``if_match``)."""
    if not if_match:
        raise PreconditionRequired()
    if if_match.strip() not in (current.etag, f"W/{current.etag}"):
        raise PreconditionFailed("The product changed since you read it; GET it again for the new ETag.")
    fields = _merged(current, patch)
    require_shop_currency(shop, fields)
    updated = changed_product(current, fields, datetime.now(UTC))
    try:
        store.replace(updated, content_hash(fields), expected_version=current.version)
    except StaleProduct:
        raise PreconditionFailed(
            "The product changed since you read it; GET it again for the new ETag."
        ) from None
    return updated


def _merged(current: Product, patch: ProductPatch) -> ProductCreate:
    values = current.model_dump(include=set(ProductCreate.model_fields))
    values.update(patch.model_dump(exclude_unset=True))
    try:
        return ProductCreate.model_validate(values)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None


def delete_product(store: ProductStore, shop: Shop, product_id: str) -> None:
    try:
        store.delete(shop.id, product_id)
    except ProductNotFound:
        raise NotFound(f"No product {product_id} in this shop.") from None
