"""Recruiting over the real stack: customers who come from an ad or a shop's link, credited with
their orders; offers to those who asked, through the sender and the Graph API emulator, counted."""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from chatshop.assistant import offers
from chatshop.assistant.i18n import translator
from chatshop.assistant.state_store import StateStore
from chatshop.platform.config import load_settings
from chatshop_local import environ

from .conftest import Api, add_product, open_shop, sign_up, usd, wait_for
from .whatsapp import FIXTURES, post_webhook, replies_to, said, sign

pytestmark = pytest.mark.integration

WABA = "102290129340411"
TEMPLATE = "spring_sale"
REPLY_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def recruiting_shop(app_stack) -> dict[str, Any]:
    merchant = sign_up(Api(app_stack.gateway.url), "Recruiting Shop")
    shop = open_shop(merchant, name="Sock Drawer")
    for retailer_id, title, cents in (
        ("SOCK-WOOL-RED", "Wool socks, red", 1500),
        ("HAT-KNIT", "Knit hat", 2500),
    ):
        link = f"https://sockdrawer.example/products/{retailer_id.lower()}"
        reply = add_product(merchant, shop["id"], retailer_id, title=title, price=usd(cents), link=link)
        assert reply.status == 201, reply.raw
    number = "1" + str(secrets.randbelow(10**14)).zfill(14)
    connected = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": number,
            "waba_id": WABA,
            "display_phone_number": "+1 555 444 7777",
            "access_token": "EAAG-recruiting-token-0123456789",
        },
    )
    assert connected.status == 200, connected.raw
    products = {p["retailer_id"]: p for p in merchant.get(f"/shops/{shop['id']}/products").json["items"]}
    return {"shop": shop, "merchant": merchant, "number": number, "products": products}


class Customer:
    def __init__(self, app_stack, api: Api, number: str, wa_id: str) -> None:
        self.app_stack, self.api, self.number, self.wa_id = app_stack, api, number, wa_id

    def says(self, text: str, referral: dict[str, Any] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": {"body": text}}
        if referral is not None:
            content["referral"] = referral
        return self._reply(self.sends("text", content))

    def taps(self, button_id: str, title: str) -> dict[str, Any]:
        interactive = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
        return self._reply(self.sends("interactive", {"interactive": interactive}))

    def sends(self, kind: str, content: dict[str, Any]) -> str:
        document = json.loads((FIXTURES / "pywa__text.json").read_bytes())
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = self.number
        value["contacts"] = [{"profile": {"name": "Lu"}, "wa_id": self.wa_id}]
        message_id = f"wamid.recruiting-{secrets.token_hex(8)}"
        value["messages"] = [
            {
                "from": self.wa_id,
                "id": message_id,
                "timestamp": str(int(time.time())),
                "type": kind,
                **content,
            }
        ]
        raw = json.dumps(document).encode()
        assert post_webhook(self.api, raw, sign(raw)).status == 200
        return message_id

    def _reply(self, message_id: str) -> dict[str, Any]:
        (reply,) = wait_for(lambda: replies_to(self.app_stack, message_id), timeout=REPLY_TIMEOUT_S)
        return reply["body"]

    def opts_in(self) -> None:
        prompt = self.says("offers")
        buttons = {b["reply"]["id"]: b["reply"]["title"] for b in prompt["interactive"]["action"]["buttons"]}
        assert offers.OFFERS_YES in buttons
        assert said(self.taps(offers.OFFERS_YES, buttons[offers.OFFERS_YES])) == translator("en").text(
            offers.OFFERS_ON, shop="Sock Drawer"
        )


def customer(app_stack, api, shop: dict[str, Any], prefix: str = "52155") -> Customer:
    digits = 13 - len(prefix) if prefix.startswith("52") else 11 - len(prefix)
    return Customer(app_stack, api, shop["number"], prefix + str(secrets.randbelow(10**digits)).zfill(digits))


def state_of(app_stack, c: Customer):
    with environ.function_environ(dict(app_stack.functions["InboundFunction"].environment)):
        return StateStore(load_settings()).get(c.number, c.wa_id)


def place_order(app_stack, shop_id: str, c: Customer, retailer_id: str, quantity: int = 1):
    from chatshop.orders.checkout import Buyer, CartLine, Checkout
    from chatshop.shops.shop_store import ShopStore

    state = state_of(app_stack, c)
    source, first_contact_at = state.acquisition()
    buyer = Buyer(wa_id=c.wa_id, phone_number_id=c.number, source=source, first_contact_at=first_contact_at)
    # As the inbound worker places a chat's order.
    with environ.function_environ(dict(app_stack.functions["InboundFunction"].environment)):
        settings = load_settings()
        shop = ShopStore(settings).get(shop_id)
        placed = Checkout.from_settings(settings).place_order(
            shop,
            [CartLine(retailer_id, quantity)],
            key=f"test-{secrets.token_hex(6)}",
            buyer=buyer,
            now=datetime.now(UTC),
        )
    assert placed.order is not None, placed.problems
    return placed.order


def figures(merchant: Api, shop_id: str) -> dict[str, dict[str, Any]]:
    reply = merchant.get(f"/shops/{shop_id}/acquisition")
    assert reply.status == 200, reply.raw
    return {row["source"]: row for row in reply.json["sources"]}


def test_an_ads_customer_is_greeted_with_its_product_and_their_order_credited_to_the_ad(
    app_stack, api, recruiting_shop
):
    shop_id = recruiting_shop["shop"]["id"]
    sock = recruiting_shop["products"]["SOCK-WOOL-RED"]
    lu = customer(app_stack, api, recruiting_shop)
    referral = {
        "source_url": "https://sockdrawer.example/products/sock-wool-red/",
        "source_id": "120208812345",
        "source_type": "ad",
        "headline": "Warm feet all winter",
        "body": "Our red wool socks",
        "media_type": "image",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM",
    }
    # When Lu's first message comes from the ad
    welcome = lu.says("Hello! Can I get more info on this?", referral=referral)
    # Then the greeting names the ad's product with its price, and offers to show it
    assert "Wool socks, red" in said(welcome) and "$15.00" in said(welcome)
    buttons = [b["reply"]["id"] for b in welcome["interactive"]["action"]["buttons"]]
    assert buttons[0] == f"show:{sock['id']}"
    # And the conversation keeps the ad, its click id and when Lu first wrote
    source, first_contact_at = state_of(app_stack, lu).acquisition()
    assert source["kind"] == "ad" and source["id"] == "120208812345"
    assert source["ctwa_clid"] == referral["ctwa_clid"] and source["retailer_id"] == "SOCK-WOOL-RED"
    assert first_contact_at is not None
    before = figures(recruiting_shop["merchant"], shop_id).get("ad:120208812345", {})
    assert before.get("conversations") == 1 and before.get("orders") == 0
    # When Lu orders two pairs
    order = place_order(app_stack, shop_id, lu, "SOCK-WOOL-RED", 2)
    # Then the order and the shop's acquisition figures are credited to the ad
    assert order.attribution["kind"] == "ad" and order.attribution["ctwa_clid"] == referral["ctwa_clid"]
    after = figures(recruiting_shop["merchant"], shop_id)["ad:120208812345"]
    assert after["orders"] == 1 and after["revenue"] == {"USD": 3000}
    # And a message handled again counts the conversation once
    assert figures(recruiting_shop["merchant"], shop_id)["ad:120208812345"]["conversations"] == 1


def test_a_links_code_attributes_the_conversation_and_its_order(app_stack, api, recruiting_shop):
    merchant, shop_id = recruiting_shop["merchant"], recruiting_shop["shop"]["id"]
    # When the merchant makes a link for the hat's shelf
    made = merchant.post(f"/shops/{shop_id}/links", {"label": "Shelf 3", "retailer_id": "HAT-KNIT"})
    assert made.status == 201, made.raw
    link = made.json
    # Then it is a wa.me link to the shop's number whose prefilled message carries the code
    parts = urlsplit(link["url"])
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/15554447777")
    text = parse_qs(parts.query)["text"][0]
    assert text == link["prefilled_text"] and f"[{link['id']}]" in text and "Knit hat" in text
    assert unquote(parts.query.removeprefix("text=")) == text
    png = base64.b64decode(link["qr_png_base64"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 200
    listed = merchant.get(f"/shops/{shop_id}/links").json["items"]
    assert link["id"] in {item["id"] for item in listed}
    # When a customer scans it and sends the prefilled message
    mo = customer(app_stack, api, recruiting_shop)
    welcome = mo.says(text)
    # Then the greeting shows the linked product, and the conversation is the link's
    assert "Knit hat" in said(welcome)
    source, _ = state_of(app_stack, mo).acquisition()
    assert (source["kind"], source["id"], source["label"]) == ("link", link["id"], "Shelf 3")
    place_order(app_stack, shop_id, mo, "HAT-KNIT")
    row = figures(merchant, shop_id)[f"link:{link['id']}"]
    assert (row["conversations"], row["orders"], row["revenue"]) == (1, 1, {"USD": 2500})
    # And an organic customer's order is credited to nothing
    org = customer(app_stack, api, recruiting_shop)
    org.says("hi")
    place_order(app_stack, shop_id, org, "HAT-KNIT")
    assert figures(merchant, shop_id)["organic"]["orders"] >= 1


def test_links_need_a_number_and_a_known_product(api):
    merchant = sign_up(api, "Linkless")
    shop = open_shop(merchant)
    assert merchant.post(f"/shops/{shop['id']}/links", {"label": "x"}).status == 409
    assert merchant.post(f"/shops/{shop['id']}/links", {"label": ""}).status == 422


def test_offers_go_only_to_those_who_asked_and_the_counts_add_up(app_stack, api, recruiting_shop):
    merchant, shop_id, number = (
        recruiting_shop["merchant"],
        recruiting_shop["shop"]["id"],
        recruiting_shop["number"],
    )
    app_stack.graph.register_template(WABA, TEMPLATE, "en", "MARKETING")
    app_stack.graph.register_template(WABA, "order_note", "en", "UTILITY")
    # Given: a Mexican customer and a US one who opt in, one limited by Meta, two who opt out
    ana, limited = customer(app_stack, api, recruiting_shop), customer(app_stack, api, recruiting_shop)
    us = customer(app_stack, api, recruiting_shop, prefix="1555")
    stopper, meta_stopper = (
        customer(app_stack, api, recruiting_shop),
        customer(app_stack, api, recruiting_shop),
    )
    for c in (ana, limited, us, stopper, meta_stopper):
        c.opts_in()
    # STOP is confirmed once; a second STOP changes nothing and says nothing
    stopped = stopper.says("STOP")
    assert said(stopped) == translator("en").text(offers.OFFERS_OFF, shop="Sock Drawer")
    again = stopper.sends("text", {"text": {"body": "stop"}})
    time.sleep(2)
    assert replies_to(app_stack, again) == []
    # WhatsApp's own "Stop promotions" opts out the same way
    app_stack.graph.send_user_preference(number, meta_stopper.wa_id, "stop")
    app_stack.graph.add_fault(number, 131049, to=limited.wa_id, via="webhook")
    # A template that is not marketing, or unknown, is refused
    assert (
        merchant.post(f"/shops/{shop_id}/broadcasts", {"template": "order_note", "language": "en"}).status
        == 409
    )
    # When the shop broadcasts its offer
    sent = merchant.post(
        f"/shops/{shop_id}/broadcasts", {"template": TEMPLATE, "language": "en", "parameters": ["20%"]}
    )
    assert sent.status == 202, sent.raw
    # (Meta accepts the limited customer's offer, then says it failed: waited for.)
    counts = settled(merchant, shop_id, sent.json["id"], failed=1)
    # Then: sent to Ana, failed for Meta's limit, the US number skipped; the opted-out never counted
    audience = {ana.wa_id, limited.wa_id, us.wa_id}
    assert counts["total"] >= 3 and counts["pending"] == 0
    assert counts["total"] == counts["sent"] + counts["failed"] + counts["skipped"]
    outbox = [m for m in app_stack.graph.outbox(phone_number_id=number) if m["type"] == "template"]
    got = {m["to"] for m in outbox}
    assert ana.wa_id in got and limited.wa_id in got
    assert us.wa_id not in got and stopper.wa_id not in got and meta_stopper.wa_id not in got
    assert counts["skipped_reasons"].get("us_number_marketing_paused", 0) >= 1
    assert counts["failed_reasons"].get("131049", 0) >= 1
    assert audience - got == {us.wa_id}
    (offer,) = [m for m in outbox if m["to"] == ana.wa_id]
    assert offer["body"]["template"]["components"][0]["parameters"] == [{"type": "text", "text": "20%"}]
    # When it broadcasts again at once: nobody gets a second offer within the shop's interval, and
    # the customer Meta refused waits longer (backed off)
    second = merchant.post(f"/shops/{shop_id}/broadcasts", {"template": TEMPLATE, "language": "en"})
    counts = settled(merchant, shop_id, second.json["id"])
    assert counts["sent"] == 0 and counts["failed"] == 0
    assert counts["skipped_reasons"].get("marketing_interval", 0) >= 1
    assert counts["skipped_reasons"].get("meta_marketing_limit_backoff", 0) >= 1
    assert len([m for m in app_stack.graph.outbox(to=ana.wa_id) if m["type"] == "template"]) == 1


def settled(merchant: Api, shop_id: str, broadcast_id: str, failed: int = 0) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        body = merchant.get(f"/shops/{shop_id}/broadcasts/{broadcast_id}").json
        counts = body["counts"]
        finished = body["status"] == "done" and counts["pending"] == 0 and counts["failed"] >= failed
        return counts if finished else None

    return wait_for(done, timeout=REPLY_TIMEOUT_S, interval=0.3)


def test_the_opt_in_is_put_once_under_the_first_orders_summary(app_stack, api, recruiting_shop):
    sock = recruiting_shop["products"]["SOCK-WOOL-RED"]
    kim = customer(app_stack, api, recruiting_shop)
    kim.says("hi")
    # When Kim orders for the first time (paid on delivery: the summary is plain text)
    kim.taps(f"add:{sock['id']}", "Add to cart")
    first = kim.taps("cart:checkout", "Order")
    # Then the summary asks, once, whether Kim wants offers, with the opt-in's buttons
    t = translator("en")
    assert said(first).endswith(t.text(offers.OFFERS_PROMPT, shop="Sock Drawer"))
    assert [b["reply"]["id"] for b in first["interactive"]["action"]["buttons"]] == [
        offers.OFFERS_YES,
        offers.OFFERS_NO,
    ]
    # And a second order's summary does not ask again
    kim.taps(f"add:{sock['id']}", "Add to cart")
    second = kim.taps("cart:checkout", "Order")
    assert second["type"] == "text"
