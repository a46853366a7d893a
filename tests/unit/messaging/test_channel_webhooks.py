"""Connecting a number points Meta at this region: the WABA's webhook override, and what Meta's
refusals become. Against the Graph API emulator on loopback, with a receiver as this region's webhook."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatshop.messaging.channel_webhooks import WebhookOverride, home_webhook_url
from chatshop.messaging.graph_client import GraphClient
from chatshop.platform.config import Settings
from chatshop.platform.errors import Unavailable, ValidationFailed
from chatshop_local.emulator import free_port
from chatshop_local.graph_emulator import GraphEmulator
from tests.unit.local.test_graph_subscriptions import (
    APP_SECRET,
    NUMBER,
    TOKEN,
    VERIFY_TOKEN,
    WABA,
    RegionWebhook,
)


@pytest.fixture
def region() -> Iterator[RegionWebhook]:
    webhook = RegionWebhook()
    yield webhook
    webhook.stop()


@pytest.fixture
def meta() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator("127.0.0.1", free_port(), None, APP_SECRET)
    emulator.register_number(NUMBER, "15550001111", TOKEN, waba_id=WABA)
    emulator.start()
    yield emulator
    emulator.stop()


def override(graph_url: str, callback_url: str, verify_token: str = VERIFY_TOKEN) -> WebhookOverride:
    return WebhookOverride(GraphClient(Settings(graph_api_url=graph_url)), callback_url, verify_token)


@pytest.mark.parametrize(
    ("configured", "headers", "context", "expected"),
    [
        (
            "https://hooks.shop.example/whatsapp",
            {"Host": "abc.execute-api.eu-west-1.amazonaws.com"},
            {"stage": "Prod"},
            "https://hooks.shop.example/whatsapp",
        ),
        (
            None,
            {"Host": "abc.execute-api.sa-east-1.amazonaws.com", "X-Forwarded-Proto": "https"},
            {"stage": "Prod"},
            "https://abc.execute-api.sa-east-1.amazonaws.com/Prod/webhooks/whatsapp",
        ),
        (
            None,
            {"host": "api.shop.example", "x-forwarded-proto": "https"},
            {"stage": "Prod"},
            "https://api.shop.example/webhooks/whatsapp",
        ),
        (None, {"Host": "127.0.0.1:8000"}, {"stage": "local"}, "http://127.0.0.1:8000/webhooks/whatsapp"),
    ],
)
def test_the_home_webhook_url_is_the_configured_one_else_this_api_s(configured, headers, context, expected):
    assert home_webhook_url(configured, headers, context) == expected


def test_meta_is_pointed_at_this_region_after_verifying_it(meta, region):
    override(f"{meta.url}/v21.0", region.url).point_home(WABA, TOKEN)

    assert meta.subscriptions.url_for(WABA, "messages") == region.url
    assert region.handshakes[0]["hub.verify_token"] == [VERIFY_TOKEN]


def test_a_token_meta_refuses_is_the_access_token_s_fault(meta, region):
    with pytest.raises(ValidationFailed) as refused:
        override(f"{meta.url}/v21.0", region.url).point_home(WABA, "EAAG-not-this-accounts-token")
    assert refused.value.fields == ["waba_id", "access_token"]
    with pytest.raises(ValidationFailed) as invalid:
        override(f"{meta.url}/v21.0", region.url).point_home(WABA, "")
    assert invalid.value.fields == ["access_token"]
    assert meta.subscriptions.subscription(WABA) is None and region.handshakes == []


def test_a_region_webhook_meta_cannot_verify_is_a_retry_later(meta):
    wrong = RegionWebhook(verify_token="another-regions-token")
    try:
        with pytest.raises(Unavailable, match="verify"):
            override(f"{meta.url}/v21.0", wrong.url).point_home(WABA, TOKEN)
    finally:
        wrong.stop()
    assert meta.subscriptions.subscription(WABA) is None


def test_meta_out_of_reach_is_a_retry_later(region):
    with pytest.raises(Unavailable, match="reached"):
        override(f"http://127.0.0.1:{free_port()}/v21.0", region.url).point_home(WABA, TOKEN)


@pytest.mark.parametrize("token", ["EAAG token with spaces 0123", "EAAGé0123456789abcdefghij\n"])
def test_a_token_is_sent_as_given_and_meta_judges_it(meta, region, token):
    with pytest.raises(ValidationFailed) as refused:
        override(f"{meta.url}/v21.0", region.url).point_home(WABA, token)
    assert refused.value.fields == ["waba_id", "access_token"]  # not this account's token
    override(f"{meta.url}/v21.0", region.url).point_home("900000000000001", token)  # an account it takes
