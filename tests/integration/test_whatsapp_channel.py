"""Connecting a shop's WhatsApp number: the token is kept encrypted and never shown."""

from __future__ import annotations

import secrets

import pytest

from .conftest import open_shop

pytestmark = pytest.mark.integration


def channel_request(phone_number_id: str, token: str | None = None, **fields) -> dict:
    return {
        "phone_number_id": phone_number_id,
        # A business account of its own: Meta takes a token only for the accounts it may manage,
        # and an account the emulator knows takes only its own numbers' tokens.
        "waba_id": new_number(),
        "display_phone_number": "+1 555 010 2030",
        "access_token": token or "EAAG" + secrets.token_hex(24),
        **fields,
    }


def new_number() -> str:
    return str(10**14 + secrets.randbelow(10**14))


def test_connect_a_number_and_read_it_back_without_its_token(app_stack, merchant, shop):
    number, token = new_number(), "EAAG" + secrets.token_hex(24)
    reply = merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(number, token))
    assert reply.status == 200, reply.raw
    assert reply.json["phone_number_id"] == number
    assert token not in reply.raw.decode()
    shown = merchant.get(f"/shops/{shop['id']}/channels/whatsapp")
    assert shown.status == 200 and shown.json == reply.json
    assert "access_token" not in shown.json
    # The token is an encrypted parameter, not an attribute of any table item
    ssm = app_stack.clients.client("ssm")
    parameter = ssm.get_parameter(Name=f"/chatshop/local/whatsapp/{number}/access-token", WithDecryption=True)
    assert parameter["Parameter"]["Type"] == "SecureString"
    assert parameter["Parameter"]["Value"] == token
    table = app_stack.stack.physical_id("MessagingTable")
    assert token not in repr(app_stack.clients.client("dynamodb").scan(TableName=table)["Items"])


def test_a_number_serves_one_shop(merchant, shop):
    number = new_number()
    assert (
        merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(number)).status
        == 200
    )
    other = open_shop(merchant, name="Second")
    reply = merchant.request("PUT", f"/shops/{other['id']}/channels/whatsapp", channel_request(number))
    assert reply.status == 409
    assert reply.json["error"]["details"] == {"field": "phone_number_id"}


def test_reconnecting_moves_the_shop_to_its_new_number_and_frees_the_old_one(merchant, shop):
    old, new = new_number(), new_number()
    merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(old))
    assert (
        merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(new)).status == 200
    )
    assert merchant.get(f"/shops/{shop['id']}/channels/whatsapp").json["phone_number_id"] == new
    other = open_shop(merchant, name="Takes the old number")
    assert (
        merchant.request("PUT", f"/shops/{other['id']}/channels/whatsapp", channel_request(old)).status == 200
    )


def test_a_shop_without_a_channel_is_404(merchant, shop):
    assert merchant.get(f"/shops/{shop['id']}/channels/whatsapp").status == 404


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"phone_number_id": "12ab"}, "phone_number_id"),
        ({"access_token": "EAA-xyz9"}, "access_token"),
        ({"display_phone_number": "call me"}, "display_phone_number"),
        ({"webhook": "https://example.com"}, "webhook"),
    ],
)
def test_bad_channel_input_is_422_and_never_echoes_the_token(merchant, shop, fields, field):
    body = {**channel_request(new_number()), **fields}
    reply = merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", body)
    assert reply.status == 422
    assert field in reply.json["error"]["details"]["fields"]
    assert body["access_token"] not in reply.raw.decode()


def test_a_shop_where_the_messenger_is_not_live_cannot_connect_a_number_or_read_its_inbox(merchant):
    # Given a Canadian shop: Canada's home region is this one, but shopping in the chat is not live there
    shop = open_shop(merchant, name="Boutique", country="CA", currency="CAD", timezone="America/Toronto")

    connect = merchant.request("PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(new_number()))
    inbox = merchant.get(f"/shops/{shop['id']}/conversations")

    for reply in (connect, inbox):
        assert reply.status == 403, reply.raw
        assert reply.json["error"]["details"] == {"feature": "messenger_shops", "country": "CA"}


def test_connecting_points_the_numbers_business_account_at_this_region(app_stack, merchant, shop):
    waba = new_number()
    reply = merchant.request(
        "PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(new_number(), waba_id=waba)
    )

    assert reply.status == 200, reply.raw
    # Meta (the emulator) verified this stack's webhook and posts the account's messages there
    subscription = app_stack.graph.subscriptions.subscription(waba)
    assert subscription is not None
    assert subscription.override_callback_uri == f"{app_stack.gateway.url}/webhooks/whatsapp"


def test_a_connection_meta_refuses_writes_nothing(app_stack, merchant, shop):
    # Given a business account Meta knows, whose numbers' token is not the one the merchant sends
    waba, number = new_number(), new_number()
    app_stack.graph.register_number(new_number(), "+1 555 010 9999", "EAAG-the-accounts-own-token", waba)

    reply = merchant.request(
        "PUT", f"/shops/{shop['id']}/channels/whatsapp", channel_request(number, waba_id=waba)
    )

    assert reply.status == 422, reply.raw
    assert reply.json["error"]["details"]["fields"] == ["waba_id", "access_token"]
    assert merchant.get(f"/shops/{shop['id']}/channels/whatsapp").status == 404
    ssm = app_stack.clients.client("ssm")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=f"/chatshop/local/whatsapp/{number}/access-token")
    table = app_stack.stack.physical_id("MessagingTable")
    item = app_stack.clients.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"CHANNEL#{number}"}, "sk": {"S": "CHANNEL"}}
    )
    assert "Item" not in item
