"""Merchant sign-up and API-key authentication."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from chatshop.platform.errors import Unauthorized

from .domain import Merchant, MerchantSignup
from .merchant_store import MerchantStore

API_KEY_PREFIX = "csk_"


def hash_api_key(api_key: str) -> str:
    # The keys are 256-bit random values, so a fast hash cannot be brute-forced; no salt is needed.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def register_merchant(store: MerchantStore, name: str, email: str) -> MerchantSignup:
    merchant = Merchant(id=uuid.uuid4().hex, name=name, email=email, created_at=datetime.now(UTC))
    api_key = new_api_key()
    store.create(merchant, hash_api_key(api_key))
    return MerchantSignup(merchant=merchant, api_key=api_key)


def authenticate(store: MerchantStore, api_key: str | None) -> Merchant:
    if not api_key or not api_key.startswith(API_KEY_PREFIX):
        raise Unauthorized("a valid API key is required")
    # Looking up by hash means no stored secret is ever compared byte by byte.
    merchant_id = store.merchant_id_for_key(hash_api_key(api_key))
    if merchant_id is None:
        raise Unauthorized("a valid API key is required")
    merchant = store.get(merchant_id)
    if merchant is None:
        raise Unauthorized("a valid API key is required")
    return merchant
