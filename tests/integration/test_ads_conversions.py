"""Conversions over the real stack: a click on a messages campaign's ad opens the shop's chat with the
campaign's link code, the order placed there is paid, and the campaign's report counts it once, with
its revenue and ROAS; an order a Meta click-to-WhatsApp ad brought is reported to the Conversions API
only for a customer who consented. On a stack of its own, so its refresh slots are its own."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chatshop.ads.chat_links import campaign_link_code
from chatshop.ads.order_paid import OrderPaid, OrderRefunded
from chatshop.ads.secrets import AdsSecrets
from chatshop.ads.users import chat_user_key
from chatshop.platform.config import load_settings
from chatshop_local import environ

from .conftest import Api, add_product, open_shop, sign_up, start_stack, usd, wait_for
from .test_recruiting import Customer, place_order, state_of

pytestmark = pytest.mark.integration

WABA = "102290129340422"
DATASET = "881234567890123"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("ads-conversions-state"))
    yield stack
    stack.stop(save=False)


@pytest.fixture(scope="module")
def client(stack) -> Api:
    return Api(stack.gateway.url)


@pytest.fixture(scope="module")
def shop(stack, client) -> dict[str, Any]:
    merchant = sign_up(client, "Lamp Room")
    shop = open_shop(merchant, name="Lamp Room")
    keyword = "zq" + uuid.uuid4().hex[:8]
    product = add_product(
        merchant,
        shop["id"],
        "LAMP-1",
        title=f"Brass lamp {keyword}",
        price=usd(4200),
        category="Home > Lighting",
    )
    assert product.status == 201, product.raw
    number = "1" + str(secrets.randbelow(10**14)).zfill(14)
    connected = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": number,
            "waba_id": WABA,
            "display_phone_number": "+1 555 010 4242",
            "dataset_id": DATASET,
            "access_token": "EAAG-conversions-token-0123456789",
        },
    )
    assert connected.status == 200, connected.raw
    assert connected.json["dataset_id"] == DATASET
    return {"merchant": merchant, "shop": shop, "product": product.json, "keyword": keyword, "number": number}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def click(url: str) -> str:
    try:
        urllib.request.build_opener(_NoRedirect).open(url, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 302
        return error.headers["Location"]
    raise AssertionError("a click redirects")


_last_slot = datetime.now(UTC)


def refresh(stack) -> None:
    """A refresh in a slot of its own, after every slot used before and after the clock's: a second
    refresh within the same five minutes would find its slot done and change nothing."""
    global _last_slot
    moment = max(datetime.now(UTC), _last_slot) + timedelta(minutes=5)
    _last_slot = moment.replace(minute=moment.minute - moment.minute % 5, second=10, microsecond=0)
    event = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": f"{_last_slot:%Y-%m-%dT%H:%M:%SZ}",
    }
    assert stack.invoke("AdRefreshFunction", event).payload["skipped"] is False


def served(client: Api, keyword: str, campaign_id: str) -> dict[str, Any]:
    body = {
        "placements": [{"id": "results", "type": "search", "count": 2, "context": {"query": keyword}}],
        "user": {"country": "US", "key": "u_" + secrets.token_urlsafe(16)},
    }
    for _ in range(80):  # pacing lets a new campaign through only some decisions
        reply = client.post("/ads/decisions", body)
        assert reply.status == 200, reply.raw
        for ad in reply.json["placements"][0]["ads"]:
            if ad["campaign_id"] == campaign_id:
                return ad
    raise AssertionError("the campaign was never served")


def messages_campaign(shop: dict[str, Any], name: str, headline: str, bid_cents: int) -> str:
    """An active messages campaign of the shop's lamp on its keyword's searches; its id."""
    created = shop["merchant"].post(
        f"/shops/{shop['shop']['id']}/campaigns",
        {
            "name": name,
            "objective": "messages",
            "placements": ["search"],
            "creative": {"product_ids": [shop["product"]["id"]], "headline": headline},
            "budget": {"period": "daily", "amount": usd(100_000)},
            "bid": {"model": "cpc", "amount": usd(bid_cents)},
            "schedule": {"start": "2026-01-01T00:00:00Z"},
            "targeting": {"countries": ["US"], "keywords": [shop["keyword"]]},
            "status": "active",
        },
    )
    assert created.status == 201, created.raw
    return created.json["id"]


def report(merchant: Api, shop_id: str, campaign_id: str) -> dict[str, Any]:
    reply = merchant.get(f"/shops/{shop_id}/campaigns/{campaign_id}/report?granularity=day")
    assert reply.status == 200, reply.raw
    return reply.json["totals"]


def pay(merchant: Api, shop_id: str, order_id: str) -> None:
    reply = merchant.post(f"/shops/{shop_id}/orders/{order_id}/transitions", {"to": "paid"})
    assert reply.status == 200, reply.raw


def deliver_again(stack, message: OrderPaid | OrderRefunded) -> None:
    """The paid (or refunded) message once more, as SQS redelivers it, straight to the worker."""
    record = {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "redelivered",
        "body": message.model_dump_json(),
        "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:AdEventsQueue",
        "awsRegion": "us-east-1",
    }
    result = stack.invoke("AdEventsFunction", {"Records": [record]})
    assert result.payload == {"batchItemFailures": []}, result.payload


def test_an_order_from_a_messages_ads_chat_is_the_campaigns_conversion_counted_once(stack, client, shop):
    merchant, shop_id = shop["merchant"], shop["shop"]["id"]
    # Given an active messages campaign, refreshed into the decision snapshot
    campaign_id = messages_campaign(shop, "Lamps to chat", "Ask us about brass", bid_cents=50)
    refresh(stack)
    code = campaign_link_code(campaign_id)
    # Then the campaign's link is one of the shop's links, labelled as the campaign's
    links = merchant.get(f"/shops/{shop_id}/links").json["items"]
    assert {(link["id"], link["label"]) for link in links} >= {(code, "Shop Ads: Lamps to chat")}

    # When a user clicks the ad: the shop's chat, its first message carrying the campaign's code
    location = click(served(client, shop["keyword"], campaign_id)["click_url"])
    parts = urlsplit(location)
    assert parts.netloc == "wa.me" and parts.path == "/15550104242"
    text = parse_qs(parts.query)["text"][0]
    assert text.endswith(f"[{code}]") and "Brass lamp" in text
    # and writes that message, and orders the lamp in the chat
    ana = Customer(stack, client, shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))
    ana.says(text)
    source, _ = state_of(stack, ana).acquisition()
    assert (source["kind"], source["id"]) == ("link", code)
    order = place_order(stack, shop_id, ana, "LAMP-1", 2)
    assert report(merchant, shop_id, campaign_id)["conversions"] == 0  # placed, not yet paid

    # When the merchant marks it paid
    pay(merchant, shop_id, order.id)

    # Then the report counts one conversion with the order's revenue, against the click's spend
    totals = wait_for(lambda: (t := report(merchant, shop_id, campaign_id))["conversions"] and t, timeout=60)
    assert totals["conversions"] == 1
    assert totals["revenue"] == usd(8400)
    assert totals["clicks"] >= 1 and totals["spend"]["amount"] > 0
    assert totals["roas"] == round(8400 / totals["spend"]["amount"], 4)

    # When the paid event comes again (a redelivery, and the merchant's retried request)
    deliver_again(stack, OrderPaid(shop_id=shop_id, order_id=order.id))
    pay(merchant, shop_id, order.id)
    time.sleep(2)  # the retried request's message, through the queue
    # Then the order is still one conversion
    again = report(merchant, shop_id, campaign_id)
    assert (again["conversions"], again["revenue"]) == (1, usd(8400))


def test_an_organic_order_is_no_campaigns_conversion(stack, client, shop):
    merchant, shop_id = shop["merchant"], shop["shop"]["id"]

    def conversions() -> int:
        campaigns = merchant.get(f"/shops/{shop_id}/campaigns").json["items"]
        return sum(report(merchant, shop_id, c["id"])["conversions"] for c in campaigns)

    before = conversions()
    # Given a customer who wrote to the shop unprompted, and ordered
    ben = Customer(stack, client, shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))
    ben.says("Hello, do you have lamps?")
    order = place_order(stack, shop_id, ben, "LAMP-1")
    # When it is paid, and the worker has read its paid event
    pay(merchant, shop_id, order.id)
    deliver_again(stack, OrderPaid(shop_id=shop_id, order_id=order.id))
    # Then no campaign counts it
    assert conversions() == before


def _meta_ad_customer(stack, client, shop) -> Customer:
    customer = Customer(stack, client, shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))
    customer.says(
        "Hello! Can I get more info on this?",
        referral={
            "source_url": "https://lamproom.example/products/lamp-1",
            "source_id": "120208899999",
            "source_type": "ad",
            "headline": "Brass lamps",
            "media_type": "image",
            "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-" + secrets.token_urlsafe(24),
        },
    )
    return customer


def _consents(stack, client, wa_id: str, state: str) -> None:
    with environ.function_environ(dict(stack.functions["AdsFunction"].environment)):
        user_key = chat_user_key(wa_id, AdsSecrets(load_settings()).user_key_secret())
    body = {"purpose": "personalised_ads", "state": state, "wording": "Personalise my ads"}
    body["source"], body["country"] = "whatsapp", "US"
    assert client.request("PUT", f"/privacy/consents/{user_key}", body).status == 200


def test_a_meta_ads_paid_order_goes_to_the_conversions_api_only_with_consent(stack, client, shop):
    merchant, shop_id = shop["merchant"], shop["shop"]["id"]
    # Given two customers a Meta click-to-WhatsApp ad brought, one of whom consented
    cy = _meta_ad_customer(stack, client, shop)
    dee = _meta_ad_customer(stack, client, shop)
    _consents(stack, client, cy.wa_id, "given")
    _consents(stack, client, dee.wa_id, "withdrawn")
    cys = place_order(stack, shop_id, cy, "LAMP-1")
    dees = place_order(stack, shop_id, dee, "LAMP-1")
    clid = state_of(stack, cy).acquisition()[0]["ctwa_clid"]

    # When both orders are paid
    pay(merchant, shop_id, cys.id)
    pay(merchant, shop_id, dees.id)

    # Then the consenting customer's purchase reaches the shop's dataset, once, as Meta documents it
    def purchases() -> list[dict[str, Any]]:
        return [e for e in stack.graph.conversion_events(DATASET) if e["event_name"] == "Purchase"]

    (sent,) = wait_for(lambda: [e for e in purchases() if e["event_id"] == cys.id], timeout=60)
    assert sent["action_source"] == "business_messaging" and sent["messaging_channel"] == "whatsapp"
    assert sent["user_data"] == {"whatsapp_business_account_id": WABA, "ctwa_clid": clid}
    assert sent["custom_data"] == {"currency": "USD", "value": 42.0}
    assert cy.wa_id not in json.dumps(sent)
    # and the other's never does, even once the worker has read its paid event
    deliver_again(stack, OrderPaid(shop_id=shop_id, order_id=dees.id))
    deliver_again(stack, OrderPaid(shop_id=shop_id, order_id=cys.id))
    assert [e["event_id"] for e in purchases()] == [cys.id]


def _chat_key(stack, wa_id: str) -> str:
    with environ.function_environ(dict(stack.functions["AdsFunction"].environment)):
        return chat_user_key(wa_id, AdsSecrets(load_settings()).user_key_secret())


def test_a_customer_gives_and_withdraws_consent_in_the_chat_into_the_same_log_as_the_api(stack, client, shop):
    from chatshop.assistant import ad_consent
    from chatshop.assistant.i18n import translator

    t = translator("en")
    eve = Customer(stack, client, shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))
    eve.says("Hello")
    key = _chat_key(stack, eve.wa_id)
    # When Eve asks for personalised ads, and confirms with the button
    prompt = eve.says("Personalise my ads")
    buttons = {b["reply"]["id"]: b["reply"]["title"] for b in prompt["interactive"]["action"]["buttons"]}
    assert set(buttons) == {ad_consent.ADS_ON, ad_consent.ADS_KEEP}
    assert client.get(f"/privacy/consents/{key}").json["consents"][0]["state"] == "not_given"
    done = eve.taps(ad_consent.ADS_ON, buttons[ad_consent.ADS_ON])
    assert done["text"]["body"] == t.text(ad_consent.ADS_ON_DONE)
    # Then the consent API shows it given from WhatsApp, with the words she answered
    consents = client.get(f"/privacy/consents/{key}").json
    (current,) = consents["consents"]
    assert (current["state"], current["source"], current["language"]) == ("given", "whatsapp", "en")
    assert current["wording"] == ad_consent.wording(t, "on")
    # When she stops them again, in two steps as well
    prompt = eve.says("stop personalised ads")
    buttons = {b["reply"]["id"]: b["reply"]["title"] for b in prompt["interactive"]["action"]["buttons"]}
    eve.taps(ad_consent.ADS_OFF, buttons[ad_consent.ADS_OFF])
    # Then it is withdrawn, and the log holds both changes, the latest first
    consents = client.get(f"/privacy/consents/{key}").json
    assert consents["consents"][0]["state"] == "withdrawn"
    assert [h["state"] for h in consents["history"][:2]] == ["withdrawn", "given"]


def test_a_refund_takes_the_orders_conversion_and_revenue_back_once(stack, client, shop):
    merchant, shop_id = shop["merchant"], shop["shop"]["id"]
    # Given a messages campaign whose chat brought two paid orders, one lamp and two lamps
    # Bid above the other campaigns', so it wins the shop's one slot in the decisions.
    campaign_id = messages_campaign(shop, "Lamps back", "Brass, returned or not", bid_cents=90)
    refresh(stack)
    location = click(served(client, shop["keyword"], campaign_id)["click_url"])
    text = parse_qs(urlsplit(location).query)["text"][0]
    orders = []
    for quantity in (1, 2):
        customer = Customer(stack, client, shop["number"], "1555" + str(secrets.randbelow(10**7)).zfill(7))
        customer.says(text)
        orders.append(place_order(stack, shop_id, customer, "LAMP-1", quantity))
    for order in orders:
        pay(merchant, shop_id, order.id)
    paid = wait_for(lambda: (t := report(merchant, shop_id, campaign_id))["conversions"] == 2 and t, 60)
    assert paid["revenue"] == usd(4200 + 8400)
    spent = paid["spend"]["amount"]
    assert spent > 0 and paid["roas"] == round(12600 / spent, 4)

    # When the merchant refunds the one-lamp order
    reply = merchant.post(f"/shops/{shop_id}/orders/{orders[0].id}/transitions", {"to": "refunded"})
    assert reply.status == 200 and reply.json["status"] == "refunded", reply.raw

    # Then the report counts the other order alone, and its ROAS follows
    after = wait_for(lambda: (t := report(merchant, shop_id, campaign_id))["conversions"] == 1 and t, 60)
    assert after["revenue"] == usd(8400)
    assert after["roas"] == round(8400 / after["spend"]["amount"], 4)
    # When the refund comes again (a redelivery, the merchant's retried request) and so does the paid event
    deliver_again(stack, OrderRefunded(shop_id=shop_id, order_id=orders[0].id))
    merchant.post(f"/shops/{shop_id}/orders/{orders[0].id}/transitions", {"to": "refunded"})
    deliver_again(stack, OrderPaid(shop_id=shop_id, order_id=orders[0].id))
    time.sleep(2)  # the retried request's message, through the queue
    # Then the refund was taken back once, and the refunded order is not credited again
    again = report(merchant, shop_id, campaign_id)
    assert (again["conversions"], again["revenue"]) == (1, usd(8400))
