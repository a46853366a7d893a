"""Ad events over the real stack: the event route, the queue, the ad-events worker and the ads table.

Tokens are signed here with the keyring the local stack put in SSM, as the decision code signs them;
the budgets are set as the campaign code sets them.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from chatshop.ads.spend import Budget, SpendStore, spend_day
from chatshop.ads.tokens import CLICK, IMPRESSION, EventKeys, sign_event
from chatshop.ads.users import UserStore
from chatshop.platform.config import Settings, load_settings
from chatshop_local import environ
from chatshop_local.ads_secrets import LOCAL_EVENT_KEYS

from .conftest import wait_for

pytestmark = pytest.mark.integration

KEYS = EventKeys.parse(LOCAL_EVENT_KEYS)
LANDING = "https://chatshop.example/"


@pytest.fixture(scope="module")
def ads_settings(app_stack) -> Iterator[Settings]:
    with environ.function_environ(dict(app_stack.functions["AdsFunction"].environment)):
        yield load_settings()


@pytest.fixture
def spend(ads_settings) -> SpendStore:
    return SpendStore(ads_settings)


@pytest.fixture
def users(ads_settings) -> UserStore:
    return UserStore(ads_settings)


def campaign_id() -> str:
    return uuid.uuid4().hex


def user_key() -> str:
    return "u_" + secrets.token_urlsafe(16)


def event_token(kind, campaign, *, price_milli=0, user=None, decision=None, now=None, **fields) -> str:
    return sign_event(
        KEYS,
        kind=kind,
        decision_id=decision or uuid.uuid4().hex,
        campaign_id=campaign,
        ad_id=fields.pop("ad_id", "ad-1"),
        user_key=user,
        price_milli=price_milli,
        now=now or datetime.now(UTC),
        **({"region": "us-east-1"} | fields),
    )


def fetch(base_url: str, token: str) -> tuple[int, str | None, str | None]:
    """GET the event URL without following a redirect: (status, Location, Cache-Control)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path.rstrip('/')}/ads/events/{token}")
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location"), response.getheader("Cache-Control")
    finally:
        connection.close()


def stats(spend: SpendStore, campaign: str) -> tuple[int, int, int, int]:
    now = datetime.now(UTC)
    rows = spend.hourly_stats(campaign, now - timedelta(hours=1), now)
    return (
        sum(r.impressions for r in rows),
        sum(r.clicks for r in rows),
        sum(r.spent_milli for r in rows),
        sum(r.unbilled for r in rows),
    )


def test_an_impression_is_counted_once_however_often_its_url_is_fetched(api, spend, users):
    # Given an impression token of a CPM ad, for a user
    campaign, user = campaign_id(), user_key()
    spend.set_budget(campaign, Budget("daily", 1_000_000), datetime.now(UTC))
    token = event_token(IMPRESSION, campaign, price_milli=500, user=user)

    # When the URL is fetched five times
    answers = [fetch(api.base_url, token) for _ in range(5)]

    # Then every answer is the same 204, and one impression is counted, charged once, capped once
    assert answers == [(204, None, "no-store")] * 5
    wait_for(lambda: stats(spend, campaign)[0] == 1, timeout=60)
    assert stats(spend, campaign) == (1, 0, 500, 0)
    assert spend.spent(campaign) == 500
    context = users.load_user(user)
    assert context.impressions(campaign, "hour") == context.impressions(campaign, "week") == 1


def test_a_click_redirects_to_its_own_destination_and_counts_once_per_impression(api, spend):
    campaign = campaign_id()
    spend.set_budget(campaign, Budget("lifetime", 100_000), datetime.now(UTC))
    decision = uuid.uuid4().hex
    token = event_token(
        CLICK, campaign, price_milli=40_000, decision=decision, destination="https://shop.example/p/1"
    )
    # A URL in the query string is never where the click goes.
    answers = [fetch(api.base_url, token + "?url=https://evil.example/") for _ in range(3)]
    assert {a[:2] for a in answers} == {(302, "https://shop.example/p/1")}
    wait_for(lambda: stats(spend, campaign)[1] == 1, timeout=60)
    assert stats(spend, campaign)[1:3] == (1, 40_000)
    assert spend.spent(campaign) == 40_000


def test_forged_altered_and_expired_tokens_count_nothing_and_look_like_genuine_ones(api, spend):
    campaign = campaign_id()
    spend.set_budget(campaign, Budget("daily", 1_000_000), datetime.now(UTC))
    genuine_impression = event_token(IMPRESSION, campaign, price_milli=500)
    genuine_click = event_token(CLICK, campaign, price_milli=1000, destination="https://shop.example/p/2")
    forged_key = EventKeys.parse("1:somebody-else-s-key-entirely")
    refused = {
        "other key": sign_event(
            forged_key,
            kind=IMPRESSION,
            decision_id=uuid.uuid4().hex,
            campaign_id=campaign,
            ad_id="ad-1",
            user_key=None,
            price_milli=500,
            now=datetime.now(UTC),
            region="us-east-1",
        ),
        "altered": genuine_impression[:-3] + ("AAA" if genuine_impression[-3:] != "AAA" else "BBB"),
        "expired": event_token(
            IMPRESSION, campaign, price_milli=500, now=datetime.now(UTC) - timedelta(hours=25)
        ),
        "expired click": event_token(
            CLICK,
            campaign,
            price_milli=1000,
            now=datetime.now(UTC) - timedelta(hours=25),
            destination="https://shop.example/p/3",
        ),
        "junk impression": "i" + "x" * 60,
        "junk click": "c" + "x" * 60,
    }
    answers = {name: fetch(api.base_url, token) for name, token in refused.items()}

    # The same answers a genuine event gets: 204, or a redirect (to the neutral page: its
    # destination is not trusted without the signature).
    assert fetch(api.base_url, genuine_impression) == (204, None, "no-store")
    assert fetch(api.base_url, genuine_click)[:2] == (302, "https://shop.example/p/2")
    for name, answer in answers.items():
        expected = (302, LANDING) if "click" in name else (204, None)
        assert answer[:2] == expected, name
    # Only the two genuine events were counted.
    wait_for(lambda: stats(spend, campaign)[:2] == (1, 1), timeout=60)
    assert stats(spend, campaign) == (1, 1, 1500, 0)


def test_a_burst_of_clicks_against_a_small_budget_stops_within_one_price(api, spend):
    # Given a daily budget of 25 cents and clicks at 3 cents: eight fit, the ninth would pass it
    campaign, price, budget = campaign_id(), 3_000, 25_000
    spend.set_budget(campaign, Budget("daily", budget), datetime.now(UTC))
    tokens = [event_token(CLICK, campaign, price_milli=price) for _ in range(40)]

    # When forty distinct clicks arrive at once, from eight clients
    def click_all(part: list[str]) -> None:
        for token in part:
            fetch(api.base_url, token)

    threads = [threading.Thread(target=click_all, args=(tokens[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every click is counted, spend never passes the budget and is within one price of it,
    # and the campaign is in the exhausted set the decisions read
    wait_for(lambda: stats(spend, campaign)[1] == 40, timeout=120)
    _, clicks, spent, unbilled = stats(spend, campaign)
    assert spend.spent(campaign, datetime.now(UTC).date()) == spent == 8 * price
    assert budget - price < spent <= budget
    assert unbilled == 40 - 8
    assert campaign in spend.exhausted_campaigns(datetime.now(UTC) + timedelta(seconds=10))


def test_a_campaign_without_a_budget_is_never_charged_and_is_exhausted(api, spend):
    campaign = campaign_id()
    fetch(api.base_url, event_token(CLICK, campaign, price_milli=1_000))
    wait_for(lambda: stats(spend, campaign)[1] == 1, timeout=60)
    assert stats(spend, campaign) == (0, 1, 0, 1)
    assert spend.spent(campaign) == 0
    assert campaign in spend.exhausted_campaigns(datetime.now(UTC) + timedelta(seconds=10))


def test_a_raised_budget_serves_again_and_counts_what_was_spent(spend):
    campaign, now = campaign_id(), datetime.now(UTC)
    spend.set_budget(campaign, Budget("lifetime", 1_000), now)
    spend.mark_exhausted(campaign, Budget("lifetime", 1_000), now)
    assert campaign in spend.exhausted_campaigns(now + timedelta(seconds=10))
    spend.set_budget(campaign, Budget("lifetime", 5_000), now)
    assert campaign not in spend.exhausted_campaigns(now + timedelta(seconds=20))
    assert spend.left_to_spend(campaign, Budget("lifetime", 5_000), now) == 5_000
    assert spend_day(now) == now.date().isoformat()
