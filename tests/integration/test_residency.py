"""Residency across several regions' stacks with one Meta between them (``chatshop_local.region_stacks``).

A Brazilian shop's number connected in sa-east-1 has its business account's webhooks posted there by
Meta directly (the override set on connect); a webhook that still reaches the US (posted before the
override, or of a field Meta never overrides) is relayed, unchanged, and nothing of it is kept in
the US. A Brazilian customer who chats and stops promotions, and a German user who consents to
personalised ads and asks for ads in eu-west-1, leave no trace in any table or bucket of us-east-1.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import stripe

from chatshop_local.emulator import free_port
from chatshop_local.graph_emulator import order_message
from chatshop_local.region_stacks import RegionStacks, start_regions, webhook_url
from chatshop_local.stack import LocalStack

from .conftest import REPO_ROOT, Api, sign_up, wait_for
from .store_scan import traces
from .test_whatsapp_channel import channel_request, new_number
from .whatsapp import fresh_text, post_webhook, sign

pytestmark = pytest.mark.integration

REGIONS = ("us-east-1", "sa-east-1", "eu-west-1")


@pytest.fixture(scope="module")
def invoked() -> dict[str, list[str]]:
    """The functions each region ran, in order."""
    return {region: [] for region in REGIONS}


@pytest.fixture(scope="module")
def regions(tmp_path_factory, invoked) -> Iterator[RegionStacks]:
    """us-east-1 (the Meta app's callback URL), sa-east-1 and eu-west-1, one Meta between them; and
    ap-south-1 listed as a peer but down: its webhooks must come again, not be dropped."""
    started = start_regions(
        REPO_ROOT / "template.yaml",
        tmp_path_factory.mktemp("regions"),
        REGIONS,
        app_region="us-east-1",
        unreachable={"ap-south-1": webhook_url(free_port())},
        observer=lambda region: lambda invocation: invoked[region].append(invocation.function),
    )
    yield started
    started.stop()


def _brazilian_number(brazil: LocalStack, waba_id: str | None = None) -> str:
    return _brazilian_shop(brazil, waba_id)[2]


def _brazilian_shop(brazil: LocalStack, waba_id: str | None = None) -> tuple[Api, str, str]:
    """(the merchant, the shop's id, its connected number) of a new shop in sa-east-1."""
    merchant = sign_up(Api(brazil.gateway.url))
    reply = merchant.post(
        "/shops", {"name": "Loja", "country": "BR", "currency": "BRL", "timezone": "America/Sao_Paulo"}
    )
    assert reply.status == 201, reply.raw
    number = new_number()
    # Its own business account: the override is per account, and other tests' accounts are elsewhere
    body = channel_request(number, waba_id=waba_id or new_number())
    connect = merchant.request("PUT", f"/shops/{reply.json['id']}/channels/whatsapp", body)
    assert connect.status == 200, connect.raw
    return merchant, reply.json["id"], number


def _about(number: str, customer_text: str = "Oi") -> tuple[bytes, str, str]:
    raw, message_id, customer = fresh_text(customer_text)
    document = json.loads(raw)
    document["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    return json.dumps(document, ensure_ascii=False).encode(), message_id, customer


def test_a_webhook_that_reaches_the_wrong_region_is_relayed_home_and_not_kept(regions):
    us, brazil = regions["us-east-1"], regions["sa-east-1"]
    number = _brazilian_number(brazil)
    raw, message_id, customer = _about(number)

    # When Meta posts it to the US region
    reply = post_webhook(Api(us.gateway.url), raw, sign(raw))

    # Then it is answered, handled in sa-east-1 as if Meta had posted it there, and the US has no trace
    assert reply.status == 200, reply.raw
    brazil_table = brazil.stack.physical_id("MessagingTable")
    wait_for(
        lambda: (
            brazil.clients.client("dynamodb")
            .get_item(TableName=brazil_table, Key={"pk": {"S": f"INBOUND#{message_id}"}, "sk": {"S": "MSG"}})
            .get("Item")
        )
    )
    time.sleep(0.5)
    assert traces(us, [customer, message_id], wa_id=customer) == []


def test_a_webhook_whose_region_cannot_be_reached_is_refused_for_meta_to_retry_and_not_kept(regions):
    us = regions["us-east-1"]
    # A number no reachable region serves (its home, ap-south-1, is down)
    raw, message_id, customer = _about(new_number())

    reply = post_webhook(Api(us.gateway.url), raw, sign(raw))

    assert reply.status == 503, reply.raw
    assert reply.json["error"]["code"] == "unavailable"
    assert traces(us, [customer, message_id], wa_id=customer) == []


def test_a_relayed_webhook_is_verified_again_and_never_relayed_further(regions):
    brazil = regions["sa-east-1"]
    raw, _message_id, _customer = _about(new_number())
    api = Api(brazil.gateway.url)

    forged = post_webhook(api, raw, sign(raw, "not-the-app-secret"))
    misdirected = api.post(
        "/webhooks/whatsapp",
        raw=raw,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(raw),
            "X-Chatshop-Relayed-From": "us-east-1",
        },
    )

    assert forged.status == 401
    assert misdirected.status == 421
    assert misdirected.json["error"]["code"] == "misdirected"


def test_connecting_sets_meta_s_override_and_the_number_s_webhooks_go_home_directly(regions, invoked):
    brazil, meta = regions["sa-east-1"], regions.meta
    waba = new_number()
    number = _brazilian_number(brazil, waba)
    assert meta.subscriptions.url_for(waba, "messages") == regions.webhook_url("sa-east-1")
    us_before = len(invoked["us-east-1"])

    # When the customer writes to the shop (Meta posts the message)
    customer = "55119" + str(secrets.randbelow(10**8)).zfill(8)
    body = meta.send_customer_message(number, customer, "Joana", {"type": "text", "text": {"body": "Oi"}})
    message_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

    # Then sa-east-1 took it from Meta and answered, and the US ran nothing for it
    wait_for(lambda: _inbound(brazil, message_id))
    wait_for(lambda: meta.outbox(to=customer, phone_number_id=number), timeout=30)
    assert "WebhookFunction" in invoked["sa-east-1"]
    assert invoked["us-east-1"][us_before:] == []


def test_a_brazilian_and_a_german_customer_leave_nothing_in_the_us(regions):
    us, brazil, europe, meta = (
        regions["us-east-1"],
        regions["sa-east-1"],
        regions["eu-west-1"],
        regions.meta,
    )
    number = _brazilian_number(brazil)
    customer, name = "55219" + str(secrets.randbelow(10**8)).zfill(8), f"Residente {secrets.token_hex(4)}"

    # A chat in Brazil: a message and the assistant's reply, then "Stop promotions", which Meta posts
    # to the app's URL (the US: user_preferences are never overridden) and the US relays home
    sent = meta.send_customer_message(number, customer, name, {"type": "text", "text": {"body": "Oi"}})
    message_id = sent["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    wait_for(lambda: meta.outbox(to=customer, phone_number_id=number), timeout=30)
    meta.send_user_preference(number, customer, "stop")

    # A German user of the marketplace gives consent to personalised ads and is served in eu-west-1
    user_key = "u_" + secrets.token_urlsafe(16)
    eu = Api(europe.gateway.url)
    consent = {
        "purpose": "personalised_ads",
        "state": "given",
        "wording": "Show me ads based on what I look at and click in the marketplace.",
        "source": "marketplace_web",
        "country": "DE",
    }
    assert eu.request("PUT", f"/privacy/consents/{user_key}", consent).status == 200
    decision = {
        "placements": [{"id": "results", "type": "search", "count": 2, "context": {"query": "tent"}}],
        "user": {"country": "DE", "key": user_key},
    }
    assert eu.post("/ads/decisions", decision).status == 200
    # The US serves no German user: asked anyway, it refuses
    refused = Api(us.gateway.url).post("/ads/decisions", decision)
    assert refused.status == 403, refused.raw

    # Then each home region holds its customer, and the US holds neither
    time.sleep(1.0)
    assert traces(brazil, [customer]) and traces(brazil, [message_id])
    assert traces(europe, [user_key])
    assert traces(us, [customer, name, message_id, user_key], wa_id=customer) == []


def _inbound(stack: LocalStack, message_id: str) -> dict | None:
    table = stack.stack.physical_id("MessagingTable")
    key = {"pk": {"S": f"INBOUND#{message_id}"}, "sk": {"S": "MSG"}}
    return stack.clients.client("dynamodb").get_item(TableName=table, Key=key).get("Item")


def test_a_brazilian_order_placed_and_paid_stays_in_brazil(regions):
    us, brazil, meta = regions["us-east-1"], regions["sa-east-1"], regions.meta
    merchant, shop_id, number = _brazilian_shop(brazil)
    product = {
        "retailer_id": "REDE-1",
        "title": "Rede de dormir",
        "price": {"amount": 8900, "currency": "BRL"},
    }
    assert merchant.post(f"/shops/{shop_id}/products", {**product, "inventory": 4}).status == 201
    secret = "whsec_residency_" + secrets.token_hex(8)
    payments = {"signing_secret": secret, "payment_link": "https://buy.stripe.com/test_rede"}
    assert merchant.request("PUT", f"/shops/{shop_id}/payments/stripe", payments).status == 200
    customer, name = "55319" + str(secrets.randbelow(10**8)).zfill(8), f"Compradora {secrets.token_hex(4)}"

    # The customer sends the cart from the shop's catalog; the order is placed in sa-east-1
    item = {"product_retailer_id": "REDE-1", "quantity": 1, "item_price": 1, "currency": "BRL"}
    meta.send_customer_message(number, customer, name, order_message("catalogo", [item]))
    (order,) = wait_for(lambda: merchant.get(f"/shops/{shop_id}/orders").json["items"], timeout=40)
    assert order["customer_wa_id"] == customer and order["total"]["amount"] == 8900

    # Stripe's event reaches the shop's endpoint at home and pays it; sent to the US, nothing knows it
    event = {
        "id": "evt_" + secrets.token_hex(8),
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_" + secrets.token_hex(8),
                "object": "checkout.session",
                "client_reference_id": order["id"],
                "payment_status": "paid",
                "amount_total": 8900,
                "currency": "brl",
            }
        },
    }
    body = json.dumps(event).encode()
    headers = {
        "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body.decode(), secret),
        "Content-Type": "application/json",
    }
    astray = Api(us.gateway.url).post(f"/webhooks/stripe/{shop_id}", raw=body, headers=headers)
    assert astray.status == 404, astray.raw
    paid = Api(brazil.gateway.url).post(f"/webhooks/stripe/{shop_id}", raw=body, headers=headers)
    assert paid.status == 200 and paid.json["outcome"] == "paid", paid.raw
    wait_for(lambda: any(order["number"] in json.dumps(m) for m in meta.outbox(to=customer)), timeout=30)

    # Then the order and its customer are in Brazil's stores only
    assert merchant.get(f"/shops/{shop_id}/orders/{order['id']}").json["status"] == "paid"
    assert traces(brazil, [order["id"]]) and traces(brazil, [customer])
    time.sleep(1.0)
    assert traces(us, [customer, name, order["id"], event["id"]], wa_id=customer) == []


def _german_ad(europe: LocalStack, user_key: str) -> dict:
    """An ad a German user was served in eu-west-1: a German shop's campaign, refreshed there."""
    merchant = sign_up(Api(europe.gateway.url))
    shop = merchant.post(
        "/shops", {"name": "Zeltladen", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"}
    )
    assert shop.status == 201, shop.raw
    keyword = "zq" + secrets.token_hex(4)
    product = merchant.post(
        f"/shops/{shop.json['id']}/products",
        {
            "retailer_id": "ZELT-1",
            "title": f"Zelt {keyword}",
            "price": {"amount": 12900, "currency": "EUR"},
            "link": "https://zeltladen.example/zelt-1",
            "inventory": 5,
        },
    )
    assert product.status == 201, product.raw
    campaign = merchant.post(
        f"/shops/{shop.json['id']}/campaigns",
        {
            "name": "Zelte",
            "placements": ["search"],
            "creative": {"product_ids": [product.json["id"]], "headline": "Trocken schlafen"},
            "budget": {"period": "daily", "amount": {"amount": 100_000, "currency": "EUR"}},
            "bid": {"model": "cpc", "amount": {"amount": 50, "currency": "EUR"}},
            "schedule": {"start": "2026-01-01T00:00:00Z"},
            "targeting": {"countries": ["DE"], "keywords": [keyword]},
            "status": "active",
        },
    )
    assert campaign.status == 201, campaign.raw
    event = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert europe.invoke("AdRefreshFunction", event).payload["ads"] >= 1
    decision = {
        "placements": [{"id": "results", "type": "search", "count": 1, "context": {"query": keyword}}],
        "user": {"country": "DE", "key": user_key},
    }

    def served() -> dict | None:
        ads = Api(europe.gateway.url).post("/ads/decisions", decision).json["placements"][0]["ads"]
        return next((ad for ad in ads if ad["campaign_id"] == campaign.json["id"]), None)

    # Pacing lets a new campaign through one decision in four
    return wait_for(served, timeout=20)


def _get(url: str) -> tuple[int, str | None]:
    """GET without following a redirect: (status, Location)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", parts.path)
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.getheader("Location")
    finally:
        connection.close()


def test_a_german_user_s_ad_events_sent_to_the_us_leave_nothing_there(regions):
    us, europe = regions["us-east-1"], regions["eu-west-1"]
    user_key = "u_" + secrets.token_urlsafe(16)
    ad = _german_ad(europe, user_key)
    token_of = {kind: ad[f"{kind}_url"].rsplit("/", 1)[1] for kind in ("impression", "click")}
    assert ad["impression_url"].startswith(europe.gateway.url)

    # When the impression and the click of the ad reach the US stack
    impression = _get(f"{us.gateway.url}/ads/events/{token_of['impression']}")
    click = _get(f"{us.gateway.url}/ads/events/{token_of['click']}")

    # Then the impression is answered as any other, and the click is sent on to eu-west-1's event URL
    assert impression == (204, None)
    assert click == (302, f"{europe.gateway.url}/ads/events/{token_of['click']}")
    # ... where it is counted and goes to the ad's own destination
    assert _get(click[1]) == (302, "https://zeltladen.example/zelt-1")
    ads_table = europe.stack.physical_id("AdsTable")
    dynamodb = europe.clients.client("dynamodb")

    def counted() -> bool:
        items = dynamodb.scan(
            TableName=ads_table,
            FilterExpression="campaign_id = :c",
            ExpressionAttributeValues={":c": {"S": ad["campaign_id"]}},
        )["Items"]
        return any(item["pk"]["S"].startswith("EVENT#") and item["kind"]["S"] == "click" for item in items)

    wait_for(counted, timeout=20)
    time.sleep(1.0)
    assert traces(us, [user_key, ad["campaign_id"], token_of["click"], token_of["impression"]]) == []


def test_a_german_user_s_consent_is_kept_in_eu_west_1_and_refused_by_the_us(regions):
    us, europe = regions["us-east-1"], regions["eu-west-1"]
    user_key = "u_" + secrets.token_urlsafe(16)
    wording = f"Personalise my ads {secrets.token_hex(4)}"
    consent = {
        "purpose": "personalised_ads",
        "state": "given",
        "wording": wording,
        "source": "marketplace_app",
        "country": "DE",
    }

    refused = Api(us.gateway.url).request("PUT", f"/privacy/consents/{user_key}", consent)
    kept = Api(europe.gateway.url).request("PUT", f"/privacy/consents/{user_key}", consent)

    assert refused.status == 403, refused.raw
    assert refused.json["error"]["code"] == "feature_not_available_in_region"
    assert kept.status == 200 and kept.json["consents"][0]["country"] == "DE", kept.raw
    assert traces(europe, [user_key])
    assert traces(us, [user_key, wording]) == []
