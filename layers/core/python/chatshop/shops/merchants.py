"""Merchant sign-up, API-key authentication and key rotation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from chatshop.platform.errors import Conflict, Unauthorized
from chatshop.platform.ttl_cache import TTLCache

from .domain import Merchant, MerchantCreate, MerchantSignup
from .merchant_store import ConcurrentRotation, MerchantStore

API_KEY_PREFIX = "csk_"
# A warm function reuses a key it has just checked for this long. A key rotated in another sandbox
# may so keep working there for up to this long (API Gateway's own authorizer cache defaults to 300 s);
# in the sandbox that rotated it, it stops at once.
KEY_CACHE_TTL_S = 60
_known_keys: TTLCache[Merchant] = TTLCache(maxsize=1024, ttl_s=KEY_CACHE_TTL_S)
_UNAUTHORIZED = "A valid API key is required: Authorization: Bearer <key>."


def hash_api_key(api_key: str) -> str:
    # The keys are 256-bit random values, so a fast hash cannot be brute-forced; no salt is needed.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def register_merchant(store: MerchantStore, signup: MerchantCreate) -> MerchantSignup:
    merchant = Merchant(
        id=uuid.uuid4().hex, name=signup.name, email=signup.email, created_at=datetime.now(UTC)
    )
    api_key = new_api_key()
    store.create(merchant, hash_api_key(api_key))
    return MerchantSignup(merchant=merchant, api_key=api_key)


def authenticate(store: MerchantStore, api_key: str | None) -> Merchant:
    if not api_key or not api_key.startswith(API_KEY_PREFIX):
        raise Unauthorized(_UNAUTHORIZED)
    key_hash = hash_api_key(api_key)
    cache_key = (store.identity, key_hash)
    cached = _known_keys.get(cache_key)
    if cached is not None:
        return cached
    # Looking up by hash means no stored secret is ever compared byte by byte.
    merchant_id = store.merchant_id_for_key(key_hash)
    found = store.get(merchant_id) if merchant_id else None
    if found is None:
        raise Unauthorized(_UNAUTHORIZED)
    _known_keys.put(cache_key, found[0])
    return found[0]


def rotate_api_key(store: MerchantStore, api_key: str) -> MerchantSignup:
    """A new key for the merchant holding ``api_key``; the old key stops working at once."""
    merchant = authenticate(store, api_key)
    new_key = new_api_key()
    old_hash = hash_api_key(api_key)
    try:
        store.rotate_key(merchant.id, old_hash, hash_api_key(new_key))
    except ConcurrentRotation:
        raise Conflict("The key was rotated by another request; use the newest key.") from None
    finally:
        _known_keys.discard((store.identity, old_hash))
    return MerchantSignup(merchant=merchant, api_key=new_key)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
