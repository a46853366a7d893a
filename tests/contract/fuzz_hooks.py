"""Schemathesis hooks for the contract fuzzer: a merchant's key that follows its rotations, and
webhook deliveries signed as Meta signs them.

Loaded by ``st run`` through SCHEMATHESIS_HOOKS; the API's address and the webhook app secret come
from the environment the fuzz runner sets (see ``fuzz.py``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import io
import json
import os
import urllib.error
import urllib.request
from typing import Any

import requests
import schemathesis
from urllib3.filepost import encode_multipart_formdata

from chatshop.shops.faq import question_key

API_URL = os.environ["CHATSHOP_FUZZ_API_URL"]
APP_SECRET = os.environ["CHATSHOP_WHATSAPP_APP_SECRET"]
SIGNATURE_HEADER = "X-Hub-Signature-256"
ROTATE_KEY = ("POST", "/merchants/me/api-key")


def _sign_up() -> str:
    body = json.dumps({"name": "Contract fuzzer", "email": "fuzzer@example.com"}).encode()
    request = urllib.request.Request(
        f"{API_URL}/merchants", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["api_key"]


class _Key:
    """The merchant's current key: rotating it (a route the fuzzer calls too) replaces it."""

    value: str | None = None


@schemathesis.auth(refresh_interval=None)
class MerchantKey:
    def get(self, case: Any, context: Any) -> str:
        if _Key.value is None:
            _Key.value = _sign_up()
        return _Key.value

    def set(self, case: Any, data: str, context: Any) -> None:
        # Always the newest key, not the one cached when the provider was first asked.
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_Key.value or data}"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    remember_shop_currency(case, response)
    remember_stripe_secret(case, response)
    if (case.method.upper(), case.path) == ROTATE_KEY and response.status_code == 201:
        sent = (case.headers or {}).get("Authorization", "")
        if sent == f"Bearer {_Key.value}":
            _Key.value = response.json()["api_key"]


_STRIPE_WEBHOOK = ("POST", "/webhooks/stripe/{shop_id}")
_STRIPE_CONNECT = ("PUT", "/shops/{shop_id}/payments/stripe")
_stripe_secrets: dict[str, str] = {}


def remember_stripe_secret(case: Any, response: Any) -> None:
    """The signing secret the fuzzer gave a shop, so that its Stripe events are signed with it."""
    route = (case.method.upper(), case.path)
    body = case.body if isinstance(case.body, dict) else {}
    secret = body.get("signing_secret")
    if route == _STRIPE_CONNECT and response.status_code == 200 and isinstance(secret, str):
        _stripe_secrets[(case.path_parameters or {}).get("shop_id", "")] = secret


class _StripeSignature(requests.auth.AuthBase):
    """Signs the bytes that go out as Stripe does (``t=<time>,v1=<HMAC-SHA256 of "t.body">``, the
    library's own scheme); a request sent without the header stays unsigned."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if "Stripe-Signature" in request.headers:
            import stripe

            body = request.body or b""
            text = body.decode() if isinstance(body, bytes) else body
            request.headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(
                text, self.secret
            )
        return request


class _MetaSignature(requests.auth.AuthBase):
    """Signs the exact bytes that go out, after the body is serialized, as Meta does; a request
    the fuzzer sent without the header (to see it refused) stays unsigned."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if SIGNATURE_HEADER in request.headers:
            body = request.body or b""
            raw = body.encode() if isinstance(body, str) else body
            digest = hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            request.headers[SIGNATURE_HEADER] = f"sha256={digest}"
        return request


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # Here rather than in map_case: only now does the case know which of its parts are negative.
    shape_positive_case(case)
    if (
        _positive(case)
        and (case.method.upper(), case.path) == _IMAGE_SEARCH
        and case.media_type in _PILLOW_FORMATS
    ):
        # "A JPEG, PNG or WebP image": bytes generated at random are rarely one. Sent in place of the
        # generated body (not written into the case, whose schema check would call bytes negative).
        kwargs["data"] = _photo(case.media_type)
    if (
        _positive(case)
        and (case.method.upper(), case.path) == _IMAGE_SEARCH
        and case.media_type == _MULTIPART
    ):
        kwargs["auth"] = _PhotoForm()
    if (case.method.upper(), case.path) == ("POST", "/webhooks/whatsapp"):
        kwargs["auth"] = _MetaSignature()
    if (case.method.upper(), case.path) == _STRIPE_WEBHOOK:
        secret = _stripe_secrets.get((case.path_parameters or {}).get("shop_id", ""))
        if secret is not None:
            kwargs["auth"] = _StripeSignature(secret)


# --- rules the document states in words, which a generator cannot read ----------------------------
#
# Each keeps positive cases inside a rule that JSON Schema cannot express; negative cases are left
# as generated, so breaking these rules is still fuzzed (and must still be refused).

_SEARCHES = {("GET", "/search"), ("POST", "/search/image")}
_IMAGE_SEARCH = ("POST", "/search/image")
_MULTIPART = "multipart/form-data"
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_PRODUCT_WRITES = {("POST", "/shops/{shop_id}/products"), ("PATCH", "/shops/{shop_id}/products/{product_id}")}
_FAQ_REPLACE = ("PUT", "/shops/{shop_id}/faq")
_shop_currencies: dict[str, str] = {}
_shop_countries: dict[str, str] = {}


def remember_shop_currency(case: Any, response: Any) -> None:
    if (case.method.upper(), case.path) == ("POST", "/shops") and response.status_code == 201:
        shop = response.json()
        _shop_currencies[shop["id"]] = shop["currency"]
        _shop_countries[shop["id"]] = shop["country"]


def shape_positive_case(case: Any) -> None:
    if not _positive(case):
        return
    route = (case.method.upper(), case.path)
    if case.query and "cursor" in case.query:
        # Cursors are opaque and only those a list answered (next_cursor) are accepted.
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    if route in _SEARCHES:
        # "Exactly one of shop_id and country".
        query = dict(case.query or {})
        if "shop_id" in query:
            query.pop("country", None)
        else:
            query.setdefault("country", "US")
        case.query = query
    if route in _PRODUCT_WRITES and isinstance(case.body, dict):
        case.body = _priced_as_the_shop(case.body, (case.path_parameters or {}).get("shop_id"))
    if route == _FAQ_REPLACE and isinstance(case.body, dict):
        case.body = _distinct_questions(case.body)
    if route in _CAMPAIGN_WRITES and isinstance(case.body, dict):
        case.body = _campaign_as_the_shop_can_run(case.body, (case.path_parameters or {}).get("shop_id"))
    if route == _CAMPAIGN_REPORT and case.query:
        case.query = _report_range(dict(case.query))


def _positive(case: Any) -> bool:
    """Positive in every part: the coverage phase makes cases with one negative component."""
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative:
        return False
    return not any(component.mode.is_negative for component in meta.components.values())


def _priced_as_the_shop(body: dict[str, Any], shop_id: str | None) -> dict[str, Any]:
    """Prices in the shop's currency, and a sale price in the price's currency and not above it."""
    body = dict(body)
    currency = _shop_currencies.get(shop_id or "")
    price = body.get("price")
    if isinstance(price, dict) and currency is not None:
        price = body["price"] = {**price, "currency": currency}
    sale = body.get("sale_price")
    if isinstance(sale, dict):
        if isinstance(price, dict):
            body["sale_price"] = {
                **sale,
                "currency": price["currency"],
                "amount": min(sale["amount"], price["amount"]),
            }
        else:
            body.pop("sale_price")  # compared with the stored price, which the generator cannot see
    return body


_CAMPAIGN_WRITES = {
    ("POST", "/shops/{shop_id}/campaigns"),
    ("PATCH", "/shops/{shop_id}/campaigns/{campaign_id}"),
}
_CAMPAIGN_REPORT = ("GET", "/shops/{shop_id}/campaigns/{campaign_id}/report")
_shop_products: dict[str, str] = {}


def _a_product_of(shop_id: str) -> str | None:
    """A product of the shop, added on first need: a campaign may promote only the shop's own."""
    if shop_id not in _shop_products and _Key.value is not None:
        currency = _shop_currencies.get(shop_id, "USD")
        body = json.dumps(
            {"retailer_id": "FUZZ-AD-1", "title": "Promoted", "price": {"amount": 1000, "currency": currency}}
        ).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {_Key.value}"}
        request = urllib.request.Request(f"{API_URL}/shops/{shop_id}/products", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                _shop_products[shop_id] = json.loads(response.read())["id"]
        except urllib.error.HTTPError as error:
            if error.code != 409:
                return None  # another merchant's shop, or none: the request is refused for that
            from chatshop.shops.catalog import product_id_for

            _shop_products[shop_id] = product_id_for(shop_id, "FUZZ-AD-1")
    return _shop_products.get(shop_id)


def _campaign_as_the_shop_can_run(body: dict[str, Any], shop_id: str | None) -> dict[str, Any]:
    """The shop's own products; money in its currency; a CPC budget that pays for a click; an end
    after the start; targeting the country the shop sells in (the document says these in words)."""
    body = dict(body)
    targeting, country = body.get("targeting"), _shop_countries.get(shop_id or "")
    if isinstance(targeting, dict) and targeting.get("countries") and country:
        # Where Shop Ads is not live in that country, the answer is 403, which a valid request may get.
        body["targeting"] = {**targeting, "countries": [country]}
    currency = _shop_currencies.get(shop_id or "")
    for part in ("budget", "bid"):
        if isinstance(body.get(part), dict) and isinstance(body[part].get("amount"), dict) and currency:
            body[part] = {**body[part], "amount": {**body[part]["amount"], "currency": currency}}
    budget, bid = body.get("budget"), body.get("bid")
    if isinstance(bid, dict) and isinstance(bid.get("amount"), dict):
        if isinstance(budget, dict) and isinstance(budget.get("amount"), dict):
            amount = max(budget["amount"]["amount"], bid["amount"]["amount"])
            body["budget"] = {**budget, "amount": {**budget["amount"], "amount": amount}}
        else:  # a patch: kept under whatever budget the campaign has
            body["bid"] = {**bid, "amount": {**bid["amount"], "amount": 1}}
    creative = body.get("creative")
    if isinstance(creative, dict) and shop_id:
        product = _a_product_of(shop_id)
        if product is not None:
            body["creative"] = {**creative, "product_ids": [product]}
    schedule = body.get("schedule")
    if isinstance(schedule, dict) and schedule.get("end") is not None:
        body["schedule"] = {**schedule, "end": None}
    return body


def _report_range(query: dict[str, Any]) -> dict[str, Any]:
    """The default range: one that ends after it starts and spans at most what a report covers
    (14 days by hour, 366 by day) is a rule across two parameters the schema cannot state."""
    return {name: value for name, value in query.items() if name not in ("from", "to")}


def _distinct_questions(body: dict[str, Any]) -> dict[str, Any]:
    """No two questions the same, ignoring case and spacing (the document says so in words): each
    repeat is left out."""
    entries = body.get("entries")
    if not isinstance(entries, list):
        return body
    seen: set[str] = set()
    kept = []
    for entry in entries:
        question = entry.get("question") if isinstance(entry, dict) else None
        if isinstance(question, str):
            if question_key(question) in seen:
                continue
            seen.add(question_key(question))
        kept.append(entry)
    return {**body, "entries": kept}


@functools.cache
def _photo(media_type: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 40, 40)).save(out, _PILLOW_FORMATS[media_type])
    return out.getvalue()


class _PhotoForm(requests.auth.AuthBase):
    """The generated form, rebuilt with a real photo as its file part, under the boundary its
    Content-Type already names (schemathesis encodes the form before requests sees it)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        boundary = request.headers.get("Content-Type", "").partition("boundary=")[2]
        if boundary:
            body, _ = encode_multipart_formdata(
                {"file": ("photo.png", _photo("image/png"), "image/png")}, boundary=boundary
            )
            request.body = body
            request.headers["Content-Length"] = str(len(body))
        return request
