"""Consent end to end, with the real decision code: a consenting user's clicks on served ads grow the
profile and personalise the next decisions; a withdrawal deletes it and the very next decision is
contextual. On a stack of its own, so its refresh slots are its own."""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chatshop.ads.users import UserStore
from chatshop.platform.config import load_settings
from chatshop_local import environ

from .conftest import Api, add_product, open_shop, sign_up, start_stack, usd, wait_for

pytestmark = pytest.mark.integration

CATEGORY = "Garden > Tools"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = start_stack(tmp_path_factory.mktemp("ads-consent-state"))
    yield stack
    stack.stop(save=False)


@pytest.fixture(scope="module")
def client(stack) -> Api:
    return Api(stack.gateway.url)


@pytest.fixture(scope="module")
def users(stack) -> UserStore:
    with environ.function_environ(dict(stack.functions["AdsFunction"].environment)):
        return UserStore(load_settings())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str) -> int:
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def decide(client: Api, keyword: str, user_key: str) -> list[dict[str, Any]]:
    body = {
        "placements": [{"id": "results", "type": "search", "count": 2, "context": {"query": keyword}}],
        "user": {"country": "US", "key": user_key},
    }
    reply = client.post("/ads/decisions", body)
    assert reply.status == 200, reply.raw
    return reply.json["placements"][0]["ads"]


def served(client: Api, keyword: str, user_key: str, campaign_id: str, tries: int = 60) -> dict | None:
    # Pacing lets a new campaign through only some decisions: ask a few times.
    for _ in range(tries):
        for ad in decide(client, keyword, user_key):
            if ad["campaign_id"] == campaign_id:
                return ad
    return None


def consent(client: Api, user_key: str, state: str) -> None:
    body = {
        "purpose": "personalised_ads",
        "state": state,
        "wording": "Personalise my ads from what I click." if state == "given" else "Stop personalising.",
        "source": "marketplace_web",
        "country": "US",
    }
    reply = client.request("PUT", f"/privacy/consents/{user_key}", body)
    assert reply.status == 200, reply.raw


def test_consent_personalises_the_next_decisions_and_a_withdrawal_makes_the_next_one_contextual(
    stack, client, users
):
    # Given an active campaign for a garden tool, refreshed into the decision snapshot
    merchant = sign_up(client, "Green Thumb")
    shop = open_shop(merchant, name="Green Thumb")
    keyword = "zq" + uuid.uuid4().hex[:8]
    product = add_product(merchant, shop["id"], "GT-1", title=f"Trowel {keyword}", category=CATEGORY).json
    reply = merchant.post(
        f"/shops/{shop['id']}/campaigns",
        {
            "name": "Trowels",
            "placements": ["search"],
            "creative": {"product_ids": [product["id"]], "headline": "Dig in"},
            "budget": {"period": "daily", "amount": usd(100_000)},
            "bid": {"model": "cpc", "amount": usd(30)},
            "schedule": {"start": "2026-01-01T00:00:00Z"},
            "targeting": {"countries": ["US"], "keywords": [keyword]},
            "status": "active",
        },
    )
    assert reply.status == 201, reply.raw
    campaign_id = reply.json["id"]
    moment = datetime.now(UTC) + timedelta(minutes=5)
    event = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert stack.invoke("AdRefreshFunction", event).payload["skipped"] is False

    # and a user who consented, with no profile yet: the ad is chosen by context only
    user_key = "u_" + secrets.token_urlsafe(16)
    consent(client, user_key, "given")
    ad = served(client, keyword, user_key, campaign_id)
    assert ad is not None and ad["why"]["personalised"] is False

    # When the user clicks it, the worker grows the profile from the category signed in the token
    assert fetch(ad["click_url"]) == 302
    wait_for(lambda: users.load_user(user_key).affinities, timeout=60)
    assert set(users.load_user(user_key).affinities) == {CATEGORY.lower()}

    # Then the next decisions may use that interest, and say so
    personalised = None
    for _ in range(60):
        ad = served(client, keyword, user_key, campaign_id, tries=1)
        if ad is not None and ad["why"]["personalised"]:
            personalised = ad
            break
        time.sleep(0.05)
    assert personalised is not None
    assert any(p["type"] == "interest" for p in personalised["why"]["parameters"])

    # When consent is withdrawn, the profile is gone and the very next decision is contextual
    consent(client, user_key, "withdrawn")
    assert users.load_user(user_key).affinities == {}
    for _ in range(20):
        for chosen in decide(client, keyword, user_key):
            assert chosen["why"]["personalised"] is False
            assert not any(p["type"] == "interest" for p in chosen["why"]["parameters"])
