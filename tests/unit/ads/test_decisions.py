"""The decision's filters, ranking and why, over a snapshot built in memory and a fake user."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from chatshop.ads.decision_models import DecisionRequest
from chatshop.ads.decisions import DecisionInputs, decide, reservations
from chatshop.ads.ranking import Bid
from chatshop.ads.snapshot import Ad, AdProduct, Snapshot
from chatshop.ads.users import is_special_category

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass
class FakeUser:
    personalised: bool = False
    minor: bool = False
    affinities: dict[str, float] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def impressions(self, campaign_id: str, window: str) -> int:
        return self.counts.get((campaign_id, window), 0)


def ad(
    campaign_id: str, shop_id: str, *, bid: int = 50, words=("boot",), category="Shoes > Boots", **extra
) -> Ad:
    product = AdProduct(
        id="p" + campaign_id.ljust(31, "0"),
        title=" ".join(words),
        price={"amount": 1999, "currency": "USD"},
        sale_price=None,
        image=None,
        link=f"https://example.com/{campaign_id}",
        category=category,
    )
    made = Ad(
        campaign_id=campaign_id,
        shop_id=shop_id,
        shop_name=f"Shop {shop_id}",
        objective="traffic",
        placements=("marketplace_feed", "search"),
        countries=("US",),
        headline="Headline",
        products=(product,),
        bid=Bid("cpc", bid, 2),
        currency="USD",
        ctr={"marketplace_feed": 0.02, "search": 0.02},
        serve_p=extra.pop("serve_p", 1.0),
        start=extra.pop("start", 0.0),
        end=extra.pop("end", None),
        cap=extra.pop("cap", None),
        words={w: 1.0 for w in words},
        categories=(category,) if category else (),
        keywords=(),
    )
    made.static_ecpm = {p: made.bid.ecpm(made.ctr[p]) for p in made.placements}
    return made


def inputs(ads, **fields) -> DecisionInputs:
    signed: list[dict] = []

    def sign(**claim) -> str:
        signed.append(claim)
        return f"t{len(signed)}"

    made = DecisionInputs(
        snapshot=Snapshot(slot="s", ads=list(ads)),
        user=fields.pop("user", FakeUser()),
        exhausted=fields.pop("exhausted", frozenset()),
        now=NOW,
        sign=sign,
        event_url=lambda token: f"https://api.example/ads/events/{token}",
        is_special=is_special_category,
        rng=random.Random(7),
        **fields,
    )
    made.signed = signed  # type: ignore[attr-defined]
    return made


def request(query: str | None = None, count: int = 2, placement: str = "search", **user) -> DecisionRequest:
    context = {"query": query} if query else {}
    return DecisionRequest(
        placements=[{"id": "p", "type": placement, "count": count, "context": context}],
        user={"country": "US", **user},
    )


def chosen(response) -> list[str]:
    return [a.campaign_id for a in response.placements[0].ads]


def test_the_higher_ecpm_wins_and_pays_the_second_price():
    given = inputs([ad("a", "s1", bid=50), ad("b", "s2", bid=30)])
    response = decide(request("boot"), given)
    assert chosen(response) == ["a", "b"]
    click_price = [c["price_milli"] for c in given.signed if c["kind"] == "click"]
    assert click_price[0] == 30_000  # b's score, kept: 30 cents, below a's 50-cent bid
    assert [c["price_milli"] for c in given.signed if c["kind"] == "impression"] == [0, 0]


def test_one_ad_per_shop_and_exhausted_campaigns_are_left_out():
    given = inputs([ad("a", "s1"), ad("b", "s1", bid=40), ad("c", "s2", bid=10)], exhausted=frozenset({"c"}))
    assert chosen(decide(request("boot"), given)) == ["a"]


def test_schedule_cap_and_throttle_filter():
    capped = FakeUser(counts={("b", "day"): 3})
    ads = [
        ad("a", "s1", start=NOW.timestamp() + 60),
        ad("b", "s2", cap=(3, "day")),
        ad("c", "s3", end=NOW.timestamp()),
        ad("d", "s4", serve_p=0.0),
        ad("e", "s5", bid=1),
    ]
    assert chosen(decide(request("boot", count=5), inputs(ads, user=capped))) == ["e"]


def test_a_capped_ad_for_a_known_user_is_to_be_reserved_and_its_impression_says_so():
    given = inputs([ad("a", "s1", cap=(2, "day")), ad("b", "s2", bid=40)])
    response = decide(request("boot", key="user-0123456789abcdef"), given)
    assert chosen(response) == ["a", "b"]
    assert reservations(response, given.snapshot, "user-0123456789abcdef") == [("a", "day", 2)]
    reserved = {(c["campaign_id"], c["kind"]): c["reserved"] for c in given.signed}
    assert reserved == {("a", "impression"): "day", ("a", "click"): None, ("b", "impression"): None,
                        ("b", "click"): None}  # fmt: skip
    # Without a user key there is no one to cap: nothing reserved, nothing said.
    anonymous = inputs([ad("a", "s1", cap=(2, "day"))])
    response = decide(request("boot"), anonymous)
    assert reservations(response, anonymous.snapshot, None) == []
    assert {c["reserved"] for c in anonymous.signed} == {None}


def test_a_decision_made_again_after_a_failed_reservation_takes_no_capped_ad():
    given = inputs([ad("a", "s1", cap=(2, "day")), ad("b", "s2", bid=40), ad("c", "s3", bid=30)])
    given.without_capped = True
    response = decide(request("boot", key="user-0123456789abcdef"), given)
    assert chosen(response) == ["b", "c"]
    assert reservations(response, given.snapshot, "user-0123456789abcdef") == []


def test_an_off_topic_ad_is_not_shown_for_a_query():
    given = inputs([ad("a", "s1", words=("sofa",), category="Furniture")])
    assert chosen(decide(request("boot"), given)) == []
    assert chosen(decide(request(None, placement="marketplace_feed"), given)) == ["a"]


def test_a_shops_own_list_shows_only_its_ads():
    given = inputs([ad("a", "s1", bid=90), ad("b", "s2")], own_shop="s2")
    assert chosen(decide(request("boot"), given)) == ["b"]


def test_why_names_the_context_and_is_personalised_only_with_consent_for_an_adult():
    ads = [ad("a", "s1", bid=50, category="Garden"), ad("b", "s2", bid=40, category="Shoes > Boots")]
    likes = {"shoes > boots": 5.0}
    feed = request(None, count=1, placement="marketplace_feed", key="k" * 20)
    consenting = decide(feed, inputs(ads, user=FakeUser(personalised=True, affinities=likes)))
    assert chosen(consenting) == ["b"]
    assert consenting.placements[0].ads[0].why.personalised is True
    minor = decide(feed, inputs(ads, user=FakeUser(personalised=True, minor=True, affinities=likes)))
    assert chosen(minor) == ["a"] and minor.placements[0].ads[0].why.personalised is False
    without = decide(feed, inputs(ads, user=FakeUser(personalised=False, affinities=likes)))
    assert chosen(without) == ["a"]


def test_a_special_category_is_never_targeted_even_with_consent():
    ads = [ad("a", "s1", bid=50, category="Garden"), ad("b", "s2", bid=40, category="Health > Vitamins")]
    user = FakeUser(personalised=True, affinities={"health > vitamins": 9.0})
    feed = request(None, count=1, placement="marketplace_feed", key="k" * 20)
    response = decide(feed, inputs(ads, user=user))
    assert chosen(response) == ["a"]
    # and a category query does not match an ad on a special category either
    given = inputs([ad("b", "s2", words=("tablet",), category="Health > Vitamins")])
    category_request = DecisionRequest(
        placements=[{"id": "p", "type": "search", "context": {"category": "Health > Vitamins"}}],
        user={"country": "US"},
    )
    assert chosen(decide(category_request, given)) == []


@pytest.mark.parametrize("country", ["DE", "CA"])
def test_another_countrys_ads_are_not_candidates(country):
    made = DecisionRequest(placements=[{"id": "p", "type": "marketplace_feed"}], user={"country": country})
    assert chosen(decide(made, inputs([ad("a", "s1")]))) == []


def test_the_snapshot_round_trips_through_bytes():
    snapshot = Snapshot(
        slot="2026-12-02T12:00", ads=[ad("a", "s1"), ad("b", "s2")], state={"pacing": {"a": [0.5, 0, ""]}}
    )
    again = Snapshot.from_bytes(snapshot.to_bytes())
    assert again.slot == snapshot.slot and set(again.ads) == {"a", "b"}
    assert again.ads["a"].static_ecpm == snapshot.ads["a"].static_ecpm
    assert again.state == snapshot.state
    assert [a.campaign_id for a in again.ranked("US", "search")] == ["a", "b"]
