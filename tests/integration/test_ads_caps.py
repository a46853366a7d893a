"""Frequency caps over the real stack: a capped ad is reserved when a decision chooses it, so a burst
of concurrent decisions for one user never shows it more often than the cap, and the impressions that
come back do not count it a second time."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chatshop.ads.spend import SpendStore
from chatshop.ads.users import UserStore
from chatshop.platform.config import Settings, load_settings
from chatshop_local import environ

from .conftest import add_product, open_shop, sign_up, wait_for
from .test_ads_serving import active_campaign, decide, fetch_without_redirect, refresh, served, word

pytestmark = pytest.mark.integration

CAP = 2


@pytest.fixture(scope="module")
def ads_settings(app_stack) -> Iterator[Settings]:
    with environ.function_environ(dict(app_stack.functions["AdsFunction"].environment)):
        yield load_settings()


def test_a_burst_of_decisions_for_one_user_never_passes_the_frequency_cap(app_stack, api, ads_settings):
    merchant = sign_up(api, "Cap Boots")
    shop = open_shop(merchant, name="Cap Boots")
    keyword = word()
    product = add_product(
        merchant, shop["id"], "CB-1", title=f"Capped boot {keyword}", link="https://example.com/cb-1"
    ).json
    # Given a campaign shown at most twice a day to a user, in the snapshot
    campaign = active_campaign(
        merchant, shop, [product["id"]], keyword, frequency_cap={"impressions": CAP, "window": "day"}
    )["id"]
    refresh(app_stack)
    assert served(api, keyword, campaign) is not None  # the functions hold the new snapshot
    user = "u_" + secrets.token_urlsafe(16)

    # When 80 decisions for that user come at once, eight at a time, before any impression is back
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: decide(api, keyword, user), range(80)))

    # Then the ad is in exactly as many answers as the cap (pacing lets it through about one in four)
    shown = [ad for reply in replies for ad in reply["placements"][0]["ads"] if ad["campaign_id"] == campaign]
    assert len(shown) == CAP
    # When the user's browser fetches both impressions (one twice)
    for ad in [*shown, shown[0]]:
        assert fetch_without_redirect(ad["impression_url"]) == 204
    # Then both are counted, and the cap's counter holds the two reservations, not four
    spend = SpendStore(ads_settings)

    def impressions() -> int:
        now = datetime.now(UTC)
        return sum(r.impressions for r in spend.hourly_stats(campaign, now - timedelta(hours=1), now))

    wait_for(lambda: impressions() == CAP, timeout=60)
    context = UserStore(ads_settings).load_user(user)
    assert context.impressions(campaign, "day") == CAP
    assert context.impressions(campaign, "hour") == CAP  # the windows the decision did not reserve
    # and the next decisions for the user leave the ad out, while another user still gets it
    later = [a["campaign_id"] for _ in range(20) for a in decide(api, keyword, user)["placements"][0]["ads"]]
    assert campaign not in later
    assert served(api, keyword, campaign, user_key="u_" + secrets.token_urlsafe(16)) is not None
