"""Shops: open, list, change and close a merchant's shops; the public marketplace listing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from chatshop.platform.errors import Conflict, Forbidden, NotFound, ValidationFailed
from chatshop.platform.iso import ISO_3166_ALPHA2
from chatshop.platform.rollout import Rollout, UnknownCountry

from .domain import Merchant, Page, Shop, ShopCreate, ShopPatch
from .shop_store import ShopNotFound, ShopStore

MARKETPLACE_FEATURE = "marketplace_shops"
MESSENGER_FEATURE = "messenger_shops"


class WrongHomeRegion(Forbidden):
    code = "wrong_home_region"


def create_shop(store: ShopStore, rollout: Rollout, region: str, merchant: Merchant, new: ShopCreate) -> Shop:
    require_home_region(rollout, region, new.country)
    now = datetime.now(UTC)
    shop = Shop(
        id=uuid.uuid4().hex,
        merchant_id=merchant.id,
        created_at=now,
        updated_at=now,
        **new.model_dump(),
    )
    store.create(shop)
    return shop


def require_home_region(rollout: Rollout, region: str, country: str) -> None:
    """A shop's data lives in its country's home region, and only there."""
    try:
        home: str | None = rollout.home_region(country)
    except UnknownCountry:
        home = None
    if home != region:
        where = f"its home region {home}" if home else "no region yet"
        raise WrongHomeRegion(
            f"Shops in {country} are served by {where}, not {region}.",
            details={"country": country, "home_region": home},
        )


def owned_shop(store: ShopStore, merchant: Merchant, shop_id: str) -> Shop:
    """The merchant's own live shop: 404 if there is none, 403 if it belongs to another merchant.

    403 rather than 404 for another merchant's shop: shop ids are random and unguessable, so
    saying "not yours" leaks nothing useful, and it tells an integrator what went wrong.
    """
    return require_owner(store.get(shop_id), merchant, shop_id)


def require_owner(shop: Shop | None, merchant: Merchant, shop_id: str) -> Shop:
    if shop is None:
        raise NotFound(f"No shop {shop_id}.")
    if shop.merchant_id != merchant.id:
        raise Forbidden("This shop belongs to another merchant.")
    return shop


def list_my_shops(store: ShopStore, merchant: Merchant, limit: int, cursor: str | None) -> Page[Shop]:
    return store.list_for_merchant(merchant.id, limit, cursor)


def update_shop(store: ShopStore, merchant: Merchant, shop_id: str, patch: ShopPatch) -> Shop:
    shop = owned_shop(store, merchant, shop_id)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        return shop
    if changes.get("payment") == "stripe_link" and not shop.payment_link:
        raise Conflict(
            "Set the shop's Stripe Payment Link first: PUT /shops/{shop_id}/payments/stripe.",
            details={"field": "payment"},
        )
    try:
        return store.update(shop, changes)
    except ShopNotFound:
        raise NotFound(f"No shop {shop_id}.") from None


def close_shop(store: ShopStore, merchant: Merchant, shop_id: str) -> Shop:
    """Hide the shop at once; the caller queues the purge of its catalog and images."""
    shop = owned_shop(store, merchant, shop_id)
    try:
        store.mark_deleted(shop.id)
    except ShopNotFound:
        raise NotFound(f"No shop {shop_id}.") from None
    return shop


def require_feature(rollout: Rollout, region: str, shop: Shop, feature: str) -> None:
    """FeatureNotAvailable (403) unless ``feature`` is live for ``shop`` (its country, its share of a
    gradual rollout) and served from this region."""
    rollout.require_live(feature, shop.country, region, shop_id=shop.id)


def marketplace_shops(
    store: ShopStore, rollout: Rollout, region: str, country: str, limit: int, cursor: str | None
) -> Page[Shop]:
    if country not in ISO_3166_ALPHA2:
        raise ValidationFailed(["country"], f"{country!r} is not an ISO 3166-1 alpha-2 country code.")
    rollout.require_live(MARKETPLACE_FEATURE, country, region)
    return store.list_marketplace(country, limit, cursor)


def marketplace_shop(store: ShopStore, rollout: Rollout, region: str, shop_id: str) -> Shop:
    shop = store.get(shop_id)
    if shop is None or shop.status != "active":
        raise NotFound(f"No shop {shop_id} in the marketplace.")
    rollout.require_live(MARKETPLACE_FEATURE, shop.country, region, shop_id=shop.id)
    return shop


def update_settings(store: ShopStore, shop: Shop, changes: dict) -> Shop:
    """Store settings other contexts keep on the shop (its payment link, its templates), which the
    shop's own PATCH does not take."""
    try:
        return store.update(shop, changes)
    except ShopNotFound:
        raise NotFound(f"No shop {shop.id}.") from None
