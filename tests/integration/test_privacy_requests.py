"""Privacy requests over the real stack: a customer goes through what chatshop offers (the chat, a
photo, an order, consent to personalised ads, an ad click), exports their data, then is erased; a
scan of every table and bucket the template declares then finds nothing of them."""

from __future__ import annotations

import io
import json
import re
import secrets
import time
import zipfile
from typing import Any

import pytest
import requests

from chatshop.ads.events import EventRecorder
from chatshop.ads.users import chat_user_key
from chatshop.platform.config import load_settings
from chatshop_local import environ
from chatshop_local.ads_secrets import LOCAL_USER_KEY_SECRET
from chatshop_local.graph_emulator import button_reply, image_message, order_message, text_message

from .conftest import Api, add_product, open_shop, sign_up, usd, wait_for
from .store_scan import traces
from .test_ads_consent import WORDING, click
from .whatsapp import said

pytestmark = pytest.mark.integration

# The export made before the erasure, which the erasure must take away too.
EXPORTS: list[str] = []


@pytest.fixture(scope="module")
def privacy_shop(app_stack) -> dict[str, Any]:
    merchant = sign_up(Api(app_stack.gateway.url), "Privacy Shop")
    shop = open_shop(merchant, name="Forgetful Goods")
    reply = add_product(merchant, shop["id"], "MUG-1", title="Enamel mug", price=usd(1500), inventory=10)
    assert reply.status == 201, reply.raw
    number = "1" + str(secrets.randbelow(10**14)).zfill(14)
    connected = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": number,
            "waba_id": "102290129340401",
            "display_phone_number": "+1 555 222 7777",
            "access_token": "EAAG-privacy-token-0123456789",
        },
    )
    assert connected.status == 200, connected.raw
    return {"shop": shop, "merchant": merchant, "number": number}


class Customer:
    def __init__(self, app_stack, number: str) -> None:
        self.app_stack = app_stack
        self.number = number
        self.wa_id = "1555" + str(secrets.randbelow(10**7)).zfill(7)
        self.name = f"Odile Forgetme{secrets.token_hex(3)}"
        self.user_key = chat_user_key(self.wa_id, LOCAL_USER_KEY_SECRET.encode())
        self.message_ids: list[str] = []

    @property
    def phone(self) -> str:
        return f"+{self.wa_id[0]} {self.wa_id[1:4]} {self.wa_id[4:]}"

    def sends(self, message: dict[str, Any]) -> str:
        body = self.app_stack.graph.send_customer_message(self.number, self.wa_id, self.name, message)
        message_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        self.message_ids.append(message_id)
        return message_id

    def replies(self) -> list[dict[str, Any]]:
        return self.app_stack.graph.outbox(to=self.wa_id)

    def needles(self) -> list[str]:
        wamids = [reply["id"] for reply in self.replies()]
        return [self.wa_id, self.phone, self.name, self.user_key, *self.message_ids, *wamids]


def hits(app_stack, customer: Customer) -> list[str]:
    return traces(app_stack, customer.needles(), wa_id=customer.wa_id)


def settle(customer: Customer, replies: int) -> None:
    """Until the stack has answered and Meta's statuses of every reply are in."""
    wait_for(lambda: len(customer.replies()) >= replies, timeout=40)
    wait_for(lambda: all(reply.get("status") == "read" for reply in customer.replies()) or None, timeout=20)
    time.sleep(1.5)


def file_request(merchant: Api, shop_id: str, kind: str, customer: Customer):
    return merchant.post(f"/shops/{shop_id}/privacy/requests", {"type": kind, "customer": customer.phone})


def finished(merchant: Api, shop_id: str, request_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found = merchant.get(f"/shops/{shop_id}/privacy/requests/{request_id}").json
        return found if found["status"] in ("done", "failed") else None

    request = wait_for(done, timeout=60)
    assert request["status"] == "done", request
    return request


@pytest.fixture(scope="module")
def customer(app_stack, privacy_shop) -> Customer:
    """A customer who chatted, sent a photo, ordered, consented to personalised ads and clicked one."""
    person = Customer(app_stack, privacy_shop["number"])
    person.sends(text_message("hi"))
    media_id = app_stack.graph.store_media(
        privacy_shop["number"], b"\x89PNG\r\n\x1a\n" + b"photo" * 40, "image/png"
    )
    person.sends(image_message(media_id))
    item = {"product_retailer_id": "MUG-1", "quantity": 2, "item_price": 1, "currency": "USD"}
    person.sends(order_message("cat-privacy", [item]))
    api = Api(app_stack.gateway.url)
    consent = api.request(
        "PUT",
        f"/privacy/consents/{person.user_key}",
        {
            "purpose": "personalised_ads",
            "state": "given",
            "wording": WORDING,
            "source": "whatsapp",
            "country": "US",
        },
    )
    assert consent.status == 200, consent.raw
    with environ.function_environ(dict(app_stack.functions["AdsFunction"].environment)):
        click(EventRecorder(load_settings()), person.user_key, "Kitchen")
    settle(person, replies=3)
    return person


def test_an_export_holds_the_customers_messages_orders_consent_and_photo(app_stack, privacy_shop, customer):
    merchant, shop_id = privacy_shop["merchant"], privacy_shop["shop"]["id"]
    filed = file_request(merchant, shop_id, "export", customer)
    assert filed.status == 202, filed.raw
    assert customer.wa_id not in filed.raw.decode() and filed.json["customer"].startswith("+15")
    request = finished(merchant, shop_id, filed.json["id"])
    EXPORTS.append(request["id"])
    assert request["progress"] == {"done": 1, "of": 1}
    link = request["export"]
    assert link is not None and link["expires_at"] > request["done_at"]

    archive = zipfile.ZipFile(io.BytesIO(requests.get(link["url"], timeout=10).content))
    data = json.loads(archive.read("data.json"))
    (conversation,) = data["conversations"]
    assert conversation["profile"]["name"] == customer.name
    said = [m["message"] for m in conversation["messages"] if m["direction"] == "in"]
    assert [m.get("type") for m in said] == ["text", "image", "order"]
    assert sum(m["direction"] == "out" for m in conversation["messages"]) >= 3
    (order,) = data["orders"]
    assert order["customer_wa_id"] == customer.wa_id and order["total"]["amount"] == 3000
    consent = next(item for item in data["ads"]["items"] if item["sk"] == "CONSENT#personalised_ads")
    assert consent["state"] == "given"
    assert any(item["sk"] == "PROFILE" for item in data["ads"]["items"])
    (photo_name,) = data["media_files"].values()
    assert archive.read(photo_name).startswith(b"\x89PNG")


def test_an_erasure_leaves_nothing_of_the_customer_in_any_table_or_bucket(app_stack, privacy_shop, customer):
    merchant, shop_id = privacy_shop["merchant"], privacy_shop["shop"]["id"]
    before = hits(app_stack, customer)
    # The scan sees the customer where they are: in messages, archives, media, orders and ads.
    assert {where.split()[0] for where in before} >= {
        "MessagingTable",
        "MediaBucket",
        "OrdersTable",
        "AdsTable",
    }

    filed = file_request(merchant, shop_id, "erasure", customer)
    assert filed.status == 202, filed.raw
    again = file_request(merchant, shop_id, "erasure", customer)
    assert again.json["id"] == filed.json["id"]
    request = finished(merchant, shop_id, filed.json["id"])
    assert request["progress"] == {"done": 5, "of": 5}
    assert request["counts"]["orders"] == 1 and request["counts"]["webhook_archives"] >= 3

    assert hits(app_stack, customer) == []
    # The order stays, the merchant's tax record, under a pseudonym.
    (order,) = merchant.get(f"/shops/{shop_id}/orders").json["items"]
    assert order["customer_wa_id"] is None and order["customer_name"] is None
    assert order["customer_pseudonym"].startswith("erased_") and order["total"]["amount"] == 3000
    # The earlier export went too: its file, and the link to it.
    (export_id,) = EXPORTS
    export = merchant.get(f"/shops/{shop_id}/privacy/requests/{export_id}").json
    assert export["status"] == "done" and export["export"] is None
    # A new request is a new one once the last is done.
    assert file_request(merchant, shop_id, "export", customer).status == 202


def test_a_request_names_a_real_number_and_kind(privacy_shop):
    merchant, shop_id = privacy_shop["merchant"], privacy_shop["shop"]["id"]
    path = f"/shops/{shop_id}/privacy/requests"
    assert merchant.post(path, {"type": "forget", "customer": "+1 555 0100"}).status == 422
    assert merchant.post(path, {"type": "export", "customer": "call me"}).status == 422
    assert merchant.post(path, {"type": "export", "customer": "+1 2"}).status == 422
    assert merchant.get(f"{path}/pr_{'0' * 24}").status == 404
    stranger = sign_up(Api(merchant.base_url))
    assert stranger.post(path, {"type": "export", "customer": "+1 555 0100 200"}).status in (403, 404)


def test_a_customer_gets_their_export_in_the_chat_after_confirming_it(app_stack, privacy_shop):
    person = Customer(app_stack, privacy_shop["number"])
    person.sends(text_message("hi"))
    wait_for(lambda: len(person.replies()) >= 1, timeout=30)
    person.sends(text_message("export my data"))
    prompt = wait_for(lambda: person.replies()[1:] or None, timeout=30)[0]
    buttons = prompt["body"]["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["data:export", "data:keep"]

    person.sends(button_reply("data:export", "Send my copy", prompt["id"]))
    ready = wait_for(
        lambda: [r for r in person.replies() if said(r["body"]).startswith("Your copy is ready")] or None,
        timeout=60,
    )
    link = re.search(r"https?://\S+", said(ready[0]["body"])).group(0)
    data = json.loads(zipfile.ZipFile(io.BytesIO(requests.get(link, timeout=10).content)).read("data.json"))
    (conversation,) = data["conversations"]
    assert "export my data" in json.dumps(conversation["messages"])


def test_a_customer_who_asks_to_be_deleted_is_asked_to_confirm_and_told_before_it_runs(
    app_stack, privacy_shop
):
    person = Customer(app_stack, privacy_shop["number"])
    person.sends(text_message("borrar mis datos"))
    prompt = wait_for(
        lambda: [r for r in person.replies() if r["type"] == "interactive"] or None, timeout=30
    )[0]
    buttons = prompt["body"]["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["data:erase", "data:keep"]
    assert "deshacer" in prompt["body"]["interactive"]["body"]["text"]  # said in Spanish

    person.sends(button_reply("data:keep", "Ahora no", prompt["id"]))
    wait_for(lambda: len(person.replies()) >= 2, timeout=30)
    person.sends(button_reply("data:erase", "Borrar mis datos", prompt["id"]))
    wait_for(lambda: len(person.replies()) >= 3, timeout=30)
    told = said(person.replies()[-1]["body"])
    assert "último mensaje" in told or "ultimo mensaje" in told
