"""Merchant sign-up and API-key authentication against the embedded AWS."""

from __future__ import annotations

import pytest

from chatshop.platform.config import load_settings
from chatshop.platform.errors import Unauthorized
from chatshop.shops.domain import MerchantCreate
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.merchants import authenticate, hash_api_key, register_merchant

pytestmark = pytest.mark.integration


@pytest.fixture
def store(shops_environ):
    return MerchantStore(load_settings())


def test_a_registered_merchant_authenticates_with_its_key(store):
    signup = register_merchant(store, MerchantCreate(name="Ada's Shop", email="ada@example.com"))
    merchant = authenticate(store, signup.api_key)
    assert merchant.id == signup.merchant.id
    assert merchant.name == "Ada's Shop"


def test_the_key_is_stored_only_as_a_hash(app_stack, store):
    signup = register_merchant(store, MerchantCreate(name="Hash Check", email="hash@example.com"))
    dynamodb = app_stack.clients.client("dynamodb")
    items = dynamodb.scan(TableName=app_stack.stack.physical_id("ShopsTable"))["Items"]
    stored = repr(items)
    assert signup.api_key not in stored
    assert f"APIKEY#{hash_api_key(signup.api_key)}" in stored


@pytest.mark.parametrize("key", [None, "", "not-a-key", "csk_" + "A" * 43])
def test_a_missing_malformed_or_unknown_key_is_unauthorized(store, key):
    with pytest.raises(Unauthorized):
        authenticate(store, key)
