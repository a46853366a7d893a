"""Ads function: merchants' ad campaigns, and the ad decisions the marketplace and search ask for.

Each route parses its input, calls one logic function of ``chatshop.ads`` and shapes the answer;
errors become the project's error model in ``chatshop.platform.http``. Merchants authenticate
with the API key of the shops API, checked by ``chatshop.shops.merchants``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from chalice import Response

from chatshop.platform.config import Settings, load_settings
from chatshop.platform.http import create_app, current_request
from chatshop.platform.rollout import Rollout, load_rollout
from chatshop.shops import merchants, shops
from chatshop.shops.domain import Merchant, Shop
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.shop_store import ShopStore

# Read once per function sandbox, under this function's own environment.
settings = load_settings()
app = create_app("ads")


class Dependencies:
    """Stores and clients, made on first use so a cold start pays only for what a route needs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def merchants(self) -> MerchantStore:
        return MerchantStore(self.settings)

    @cached_property
    def shops(self) -> ShopStore:
        return ShopStore(self.settings)

    @property
    def rollout(self) -> Rollout:
        return load_rollout(settings=self.settings)


deps = Dependencies(settings)


# --- helpers ------------------------------------------------------------------------------------


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def authenticated() -> Merchant:
    header = current_request().headers.get("authorization")
    return merchants.authenticate(deps.merchants, merchants.bearer_token(header))


def my_shop(shop_id: str) -> Shop:
    return shops.owned_shop(deps.shops, authenticated(), shop_id)


def query(name: str) -> str | None:
    return (current_request().query_params or {}).get(name)
