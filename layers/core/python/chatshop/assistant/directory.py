"""The shops context as the assistant reads it: a shop, its channel's catalog, its products.

A warm worker keeps each for a minute: a conversation sends several messages a minute and every
one needs the shop, and browsing needs the whole catalog; a change to the catalog reaches the chat
within that minute. Products a reply names are read again, by id, when the reply is composed.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatshop.messaging.channel_store import ChannelStore
from chatshop.platform.config import Settings
from chatshop.platform.ttl_cache import TTLCache
from chatshop.shops.domain import Product, Shop
from chatshop.shops.media import MediaBucket, image_key
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore

CACHE_TTL_S = 60.0
_PAGE = 200
# A chat browses a catalog by its categories; past this many products, the rest is found by asking.
MAX_BROWSED_PRODUCTS = 5000
# What WhatsApp shows as an image (it takes WebP only as stickers).
WHATSAPP_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


class ShopDirectory:
    def __init__(self, settings: Settings) -> None:
        self._shops = ShopStore(settings)
        self._channels = ChannelStore(settings)
        self._products = ProductStore(settings)
        self._media = MediaBucket(settings)
        self._shop_cache: TTLCache[tuple[Shop | None]] = TTLCache(1000, CACHE_TTL_S)
        self._catalog_cache: TTLCache[tuple[str | None]] = TTLCache(1000, CACHE_TTL_S)
        self._product_cache: TTLCache[tuple[Product, ...]] = TTLCache(50, CACHE_TTL_S)

    def shop(self, shop_id: str) -> Shop | None:
        cached = self._shop_cache.get(shop_id)
        if cached is None:
            cached = (self._shops.get(shop_id),)
            self._shop_cache.put(shop_id, cached)
        return cached[0]

    def catalog_id(self, shop_id: str) -> str | None:
        cached = self._catalog_cache.get(shop_id)
        if cached is None:
            channel = self._channels.for_shop(shop_id)
            cached = (channel.catalog_id if channel is not None else None,)
            self._catalog_cache.put(shop_id, cached)
        return cached[0]

    def products(self, shop_id: str) -> Sequence[Product]:
        cached = self._product_cache.get(shop_id)
        if cached is None:
            cached = tuple(self._all_products(shop_id))
            self._product_cache.put(shop_id, cached)
        return cached

    def products_by_id(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Product]:
        found = self._products.get_many(shop_id, list(dict.fromkeys(product_ids)))
        return {pid: stored.product for pid, stored in found.items()}

    def image_link(self, product: Product) -> str | None:
        """A URL Meta can fetch the product's first picture from (presigned for an hour), else the
        picture its feed links to."""
        for image in product.images:
            if image.content_type in WHATSAPP_IMAGE_TYPES and image.index_status != "rejected":
                return self._media.presigned_get(image_key(product.shop_id, product.id, image.id))
        return product.image_link

    def _all_products(self, shop_id: str) -> list[Product]:
        products: list[Product] = []
        cursor: str | None = None
        while len(products) < MAX_BROWSED_PRODUCTS:
            page = self._products.list(shop_id, _PAGE, cursor)
            products.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        return products
