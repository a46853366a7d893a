"""Data access that reads a shop and one of its products in a single round trip.

Every product route needs both: the shop to check who owns it, the product itself. They live in
the same table, so one BatchGetItem fetches them together.
"""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .domain import Shop
from .product_store import StoredVersion, product_key, stored_version
from .shop_store import shop_key, to_shop
from .tables import bind

_PROFILE = "PROFILE"


class CatalogLookup:
    def __init__(self, settings: Settings) -> None:
        self._table = bind(settings)
        self._client = aws.client("dynamodb", settings)

    def shop_and_product(self, shop_id: str, product_id: str) -> tuple[Shop | None, StoredVersion | None]:
        """The live shop (None if there is none, or it is closed) and the product, if any."""
        table = self._table.shops.Meta.table_name
        shop_keys = {"pk": {"S": shop_key(shop_id)}, "sk": {"S": _PROFILE}}
        product_keys = {"pk": {"S": shop_key(shop_id)}, "sk": {"S": product_key(product_id)}}
        request = {table: {"Keys": [shop_keys, product_keys], "ConsistentRead": True}}
        items: list[dict] = []
        while request:
            response = self._client.batch_get_item(RequestItems=request)
            items += response["Responses"].get(table, [])
            request = response.get("UnprocessedKeys") or {}
        shop, product = None, None
        for item in items:
            if item["sk"]["S"] == _PROFILE:
                shop_item = self._table.shops.from_raw_data(item)
                shop = None if shop_item.deleted else to_shop(shop_item)
            else:
                product = stored_version(self._table.products.from_raw_data(item))
        return shop, product
