"""Shop Ads served over the real stack: a campaign refreshed into the snapshot and chosen by a
decision, in search results and on its shop's product list; the refresh idempotent; an exhausted
campaign stopped within seconds of the click that spent its budget."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .conftest import Api, add_product, open_shop, sign_up, usd, wait_for

pytestmark = pytest.mark.integration

_last_slot = datetime.now(UTC)


def next_slot() -> datetime:
    """Early in a refresh slot of its own (a repeated slot changes nothing): after every slot used
    before, and after the clock's, which the stack's own schedule may have run."""
    global _last_slot
    moment = max(datetime.now(UTC), _last_slot) + timedelta(minutes=5)
    _last_slot = moment.replace(minute=moment.minute - moment.minute % 5, second=10, microsecond=0)
    return _last_slot


def refresh(app_stack, at: datetime | None = None) -> dict[str, Any]:
    moment = at or next_slot()
    event = {
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return app_stack.invoke("AdRefreshFunction", event).payload


def word() -> str:
    """A made-up word no other test's products carry, so this test's ads are the only candidates."""
    return "zq" + uuid.uuid4().hex[:8]


def active_campaign(merchant: Api, shop: dict[str, Any], product_ids: list[str], keyword: str, **fields: Any):
    body = {
        "name": "Rain boots",
        "placements": ["marketplace_feed", "search"],
        "creative": {"product_ids": product_ids, "headline": "Dry feet all autumn"},
        "budget": {"period": "daily", "amount": usd(100_000)},
        "bid": {"model": "cpc", "amount": usd(50)},
        "schedule": {"start": "2026-01-01T00:00:00Z"},
        "targeting": {"countries": ["US"], "keywords": [keyword]},
        "status": "active",
        **fields,
    }
    reply = merchant.post(f"/shops/{shop['id']}/campaigns", body)
    assert reply.status == 201, reply.raw
    return reply.json


def decide(api: Api, query: str | None, user_key: str | None = None) -> dict[str, Any]:
    context = {"query": query} if query else {}
    body = {
        "placements": [{"id": "results", "type": "search", "count": 2, "context": context}],
        "user": {"country": "US", **({"key": user_key} if user_key else {})},
    }
    reply = api.post("/ads/decisions", body)
    assert reply.status == 200, reply.raw
    return reply.json


def served(
    api: Api,
    query: str,
    campaign_id: str,
    tries: int = 40,
    within_s: float = 12.0,
    user_key: str | None = None,
) -> dict | None:
    """The ad of ``campaign_id`` in one of at least ``tries`` decisions made over ``within_s``
    seconds (pacing lets a new campaign through one decision in four; a function re-reads the
    snapshot at most every five seconds)."""
    deadline = time.monotonic() + within_s
    made = 0
    while made < tries or time.monotonic() < deadline:
        made += 1
        for ad in decide(api, query, user_key)["placements"][0]["ads"]:
            if ad["campaign_id"] == campaign_id:
                return ad
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_without_redirect(url: str) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def advertiser(api):
    merchant = sign_up(api, "Boot Maker")
    shop = open_shop(merchant, name="Boot Maker")
    return merchant, shop


def test_a_campaign_is_refreshed_into_the_snapshot_and_served_with_why(app_stack, api, advertiser):
    merchant, shop = advertiser
    keyword = word()
    product = add_product(
        merchant, shop["id"], "RB-1", title=f"Rubber rain boot {keyword}", link="https://example.com/rb-1"
    ).json
    campaign = active_campaign(merchant, shop, [product["id"]], keyword)
    # Given: not in any snapshot yet
    assert served(api, keyword, campaign["id"], tries=3, within_s=0) is None
    # When
    result = refresh(app_stack)
    assert result["skipped"] is False and result["ads"] >= 1
    # Then
    ad = served(api, keyword, campaign["id"])
    assert ad is not None
    assert ad["label"] == "Sponsored"
    assert ad["advertiser"] == {"shop_id": shop["id"], "name": "Boot Maker"} == ad["paid_by"]
    assert ad["products"][0]["id"] == product["id"] and ad["destination"] == "https://example.com/rb-1"
    assert ad["impression_url"].startswith(api.base_url + "/ads/events/i")
    assert ad["click_url"].startswith(api.base_url + "/ads/events/c")
    kinds = {p["type"] for p in ad["why"]["parameters"]}
    assert {"context", "keyword", "location"} <= kinds and ad["why"]["personalised"] is False
    # An unrelated query does not bring it up
    assert served(api, word(), campaign["id"], tries=10, within_s=0) is None


def test_a_repeated_refresh_of_one_slot_changes_nothing(app_stack):
    moment = next_slot()
    first = refresh(app_stack, moment)
    again = refresh(app_stack, moment + timedelta(seconds=30))
    assert first["skipped"] is False
    assert again["skipped"] is True and again["slot"] == first["slot"]


def test_ads_are_not_decided_where_shop_ads_is_not_live(api):
    body = {"placements": [{"id": "p", "type": "marketplace_feed"}], "user": {"country": "CA"}}
    reply = api.post("/ads/decisions", body)
    assert reply.status == 403 and reply.error_code == "feature_not_available_in_region"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"placements": [], "user": {"country": "US"}}, "placements"),
        ({"placements": [{"id": "p", "type": "billboard"}], "user": {"country": "US"}}, "placements.0.type"),
        (
            {"placements": [{"id": "p", "type": "search", "count": 6}], "user": {"country": "US"}},
            "placements.0.count",
        ),
        (
            {"placements": [{"id": "p", "type": "search"}], "user": {"country": "US", "key": "bob"}},
            "user.key",
        ),
    ],
)
def test_bad_decision_requests_are_422_naming_the_field(api, body, field):
    reply = api.post("/ads/decisions", body)
    assert reply.status == 422, reply.raw
    assert field in reply.json["error"]["details"]["fields"]


def test_an_exhausted_campaign_stops_within_seconds_of_the_charge(app_stack, api, advertiser):
    merchant, shop = advertiser
    keyword = word()
    product = add_product(merchant, shop["id"], "RB-3", title=f"Galosh {keyword}").json
    # A budget of one click at the bid: the first click's (second) price leaves less than another.
    campaign = active_campaign(
        merchant,
        shop,
        [product["id"]],
        keyword,
        budget={"period": "daily", "amount": usd(2)},
        bid={"model": "cpc", "amount": usd(2)},
    )
    refresh(app_stack)
    ad = served(api, keyword, campaign["id"])
    assert ad is not None
    assert fetch_without_redirect(ad["impression_url"]) == 204
    assert fetch_without_redirect(ad["click_url"]) == 302
    # The event worker charges the click and marks the campaign exhausted; decisions read that
    # set through a cache of a few seconds, not at the next refresh.
    shown = merchant.get(f"/shops/{shop['id']}/campaigns/{campaign['id']}")
    wait_for(
        lambda: merchant.get(f"/shops/{shop['id']}/campaigns/{campaign['id']}").json["budget_exhausted"],
        timeout=30,
    )
    assert shown.status == 200
    stopped_at = time.monotonic()
    wait_for(
        lambda: served(api, keyword, campaign["id"], tries=20, within_s=0) is None, timeout=15, interval=0.5
    )
    assert time.monotonic() - stopped_at < 15
    assert served(api, keyword, campaign["id"], tries=40, within_s=0) is None


def test_search_and_the_shops_list_carry_its_sponsored_results(app_stack, api, advertiser):
    merchant, shop = advertiser
    keyword = word()
    product = add_product(merchant, shop["id"], "RB-2", title=f"Wellington {keyword}").json
    campaign = active_campaign(merchant, shop, [product["id"]], keyword)
    refresh(app_stack)

    def sponsored_in(path: str) -> list[dict[str, Any]] | None:
        reply = api.get(path)
        assert reply.status == 200, reply.raw
        found = [ad for ad in reply.json.get("sponsored", []) if ad["campaign_id"] == campaign["id"]]
        return found or None

    found = wait_for(lambda: sponsored_in(f"/search?q={keyword}&country=US"), timeout=60, interval=0)
    assert found[0]["label"] == "Sponsored"
    listed = wait_for(
        lambda: sponsored_in(f"/marketplace/shops/{shop['id']}/products"), timeout=60, interval=0
    )
    assert listed[0]["advertiser"]["shop_id"] == shop["id"]
    # Another shop's list never shows this shop's ad
    other = open_shop(merchant, name="Other shop")
    for _ in range(20):
        reply = api.get(f"/marketplace/shops/{other['id']}/products")
        assert all(ad["advertiser"]["shop_id"] == other["id"] for ad in reply.json.get("sponsored", []))


def test_consent_personalises_the_next_decision_and_withdrawal_stops_it_at_once(app_stack, api, advertiser):
    merchant, shop = advertiser
    keyword, user_key = word(), "u_" + uuid.uuid4().hex
    category = f"{keyword.title()} > Tents"  # a category no other test's ads are in
    product = add_product(merchant, shop["id"], "TENT-1", title=f"Tent {keyword}", category=category).json
    campaign = active_campaign(
        merchant,
        shop,
        [product["id"]],
        keyword,
        bid={"model": "cpc", "amount": usd(900)},
        budget={"period": "daily", "amount": usd(1_000_000)},
    )
    result = refresh(app_stack)
    assert result["skipped"] is False, result

    def consent(state: str) -> None:
        body = {
            "purpose": "personalised_ads",
            "state": state,
            "source": "marketplace_web",
            "country": "US",
            "wording": "Ads from my clicks",
        }
        assert api.request("PUT", f"/privacy/consents/{user_key}", body).status == 200

    def feed_ad() -> dict[str, Any] | None:
        body = {
            "placements": [{"id": "feed", "type": "marketplace_feed", "count": 5}],
            "user": {"country": "US", "key": user_key},
        }
        ads = api.post("/ads/decisions", body).json["placements"][0]["ads"]
        return next((ad for ad in ads if ad["campaign_id"] == campaign["id"]), None)

    # Given: consent, and a click on the ad (from a search) that grows the profile in its category
    consent("given")
    # Served to this user (pacing lets a new campaign through one decision in four), so the click's
    # token carries the user's key
    ad = served(api, keyword, campaign["id"], user_key=user_key)
    assert ad is not None
    assert fetch_without_redirect(ad["click_url"]) == 302

    # When / Then: the feed, without context, is personalised by that interest
    # Pacing may hold the ad back on any one decision, so the personalised one found is the one read
    def personalised() -> dict[str, Any] | None:
        found = feed_ad()
        return found if found and found["why"]["personalised"] else None

    found = wait_for(personalised, timeout=40, interval=0.5)
    interests = [p for p in found["why"]["parameters"] if p["type"] == "interest"]
    assert interests and interests[0]["source"].endswith("used with your consent")
    assert found["why"]["controls"]["consent"].endswith(f"/privacy/consents/{user_key}")
    # Withdrawn: the very next decision is contextual
    consent("withdrawn")
    for _ in range(20):
        again = feed_ad()
        assert again is None or again["why"]["personalised"] is False
