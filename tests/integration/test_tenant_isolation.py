"""No merchant route reads or changes another merchant's shop: every one of them is tried."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatshop_local.template import ApiEvent, load_template

from .conftest import add_product, open_shop, sign_up, usd

pytestmark = pytest.mark.integration

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")
SHOP_ROUTES = sorted(
    (event.method, event.path)
    for spec in TEMPLATE.functions()
    for event in spec.events_of(ApiEvent)
    # Merchant routes: the marketplace is public, and a payment provider's webhook is answerable to
    # its signature, not to a merchant's key (tests/integration/test_orders_payments.py covers forged events).
    if "{shop_id}" in event.path and not event.path.startswith(("/marketplace/", "/webhooks/"))
)
# A plausible body for each kind of write, so a route cannot pass by failing validation first.
BODIES = {
    ("PATCH", "/shops/{shop_id}"): {"name": "Taken over"},
    ("POST", "/shops/{shop_id}/products"): {"retailer_id": "INTRUDER", "title": "Mine now", "price": usd(1)},
    ("PATCH", "/shops/{shop_id}/products/{product_id}"): {"title": "Mine now"},
    ("POST", "/shops/{shop_id}/products/{product_id}/images"): {"content_type": "image/jpeg"},
    ("POST", "/shops/{shop_id}/catalog/uploads"): {"content_type": "text/csv"},
    ("PUT", "/shops/{shop_id}/channels/whatsapp"): {
        "phone_number_id": "900000000000001",
        "waba_id": "900000000000002",
        "display_phone_number": "+1 555 000 0001",
        "access_token": "EAAG-intruder-token-0123456789",
    },
}
BODIES[("PUT", "/shops/{shop_id}/faq")] = {"entries": [{"question": "Mine?", "answer": "Now."}]}
BODIES[("POST", "/shops/{shop_id}/conversations/{conversation_id}/messages")] = {"text": "Hello from B"}
CSV_FEED = b"id,title,price\nINTRUDER,Mine now,1.00 USD\n"


def test_every_shop_route_is_covered():
    assert len(SHOP_ROUTES) >= 12  # the shop, product, image and import routes of the API


class _WellFormedIds(dict):
    """The ids of the routes' paths; any other id (a broadcast's, a campaign's, a link's) as a
    well-formed one that exists nowhere: the shop is checked first."""

    def __missing__(self, name: str) -> str:
        return "0" * 32


def test_another_merchants_shop_is_403_on_every_route_and_left_unchanged(api):
    # Given merchant A's shop, product and import
    owner, intruder = sign_up(api, "Owner"), sign_up(api, "Intruder")
    shop = open_shop(owner)
    product = add_product(owner, shop["id"], "OWNED-1")
    imported = owner.post(
        f"/shops/{shop['id']}/catalog/imports", raw=CSV_FEED, headers={"Content-Type": "text/csv"}
    )
    # The shop is checked before the conversation, so any well-formed conversation id will do.
    ids = _WellFormedIds(
        shop_id=shop["id"],
        product_id=product.json["id"],
        import_id=imported.json["id"],
        conversation_id="cv_" + "0" * 24,
        order_id="o" + "0" * 31,
    )
    before = (owner.get(f"/shops/{shop['id']}").json, owner.get(f"/shops/{shop['id']}/products").json)

    # When merchant B calls every merchant route on it
    outcomes = {}
    for method, path in SHOP_ROUTES:
        url = path.format_map(ids)
        headers = {"If-Match": product.headers["ETag"]}
        if path.endswith("/catalog/imports") and method == "POST":
            reply = intruder.request(method, url, raw=CSV_FEED, headers={"Content-Type": "text/csv"})
        else:
            reply = intruder.request(method, url, BODIES.get((method, path)), headers=headers)
        outcomes[f"{method} {path}"] = (reply.status, reply.error_code)

    # Then each one is refused as forbidden, and A's shop and catalog are as they were
    assert outcomes == {route: (403, "forbidden") for route in outcomes}
    after = (owner.get(f"/shops/{shop['id']}").json, owner.get(f"/shops/{shop['id']}/products").json)
    assert after == before
