"""Ranking and pricing: smoothed CTR, relevance, eCPM and the second price."""

from __future__ import annotations

import pytest

from chatshop.ads.ranking import (
    MIN_RELEVANCE,
    PRIOR_CTR,
    Bid,
    auction_price_milli,
    category_match,
    decayed_counts,
    predicted_ctr,
    relevance,
    word_match,
)


def test_a_new_campaign_predicts_the_prior_and_its_clicks_take_over():
    assert predicted_ctr(0, 0, "search") == pytest.approx(PRIOR_CTR["search"])
    assert predicted_ctr(100, 1000, "search") == pytest.approx((100 + 6) / 1200)
    assert predicted_ctr(1000, 10_000, "search") > 0.09


def test_counts_decay_by_the_hour():
    impressions, clicks = decayed_counts(1000.0, 10.0, 2, 50, 1)
    assert impressions == pytest.approx(1000 * 0.98**2 + 50)
    assert clicks == pytest.approx(10 * 0.98**2 + 1)


def test_category_paths_match_exactly_or_by_prefix():
    assert category_match("Shoes > Boots", ["shoes > boots"]) == 1.0
    assert category_match("Shoes", ["Shoes > Boots"]) == 0.7
    assert category_match("Shoes > Boots > Rain", ["Shoes > Boots"]) == 0.7
    assert category_match("Garden", ["Shoes > Boots"]) == 0.0


def test_word_match_weighs_rare_words_more():
    words = {"boot": 2.0, "rain": 0.5}
    assert word_match(["boot"], words) == 1.0
    assert word_match(["boot", "red"], words) == pytest.approx(2 / 3)
    assert word_match(["red"], words) == 0.0


def test_relevance_is_one_without_context_and_floored_with_it():
    assert relevance(query_words=[], ad_words={}, category=None, semantic=None) == 1.0
    off_topic = relevance(query_words=["sofa"], ad_words={"boot": 1.0}, category=None, semantic=None)
    assert off_topic == MIN_RELEVANCE
    semantic = relevance(query_words=["sofa"], ad_words={"boot": 1.0}, category=None, semantic=0.8)
    assert semantic == pytest.approx(0.8)


def test_ecpm_of_cpc_and_cpm_bids():
    assert Bid("cpc", 50, 2).ecpm(0.02) == pytest.approx(10.0)  # $0.50 x 2% x 1000
    assert Bid("cpm", 300, 2).ecpm(0.5) == pytest.approx(3.0)


def test_the_second_price_keeps_the_rank_and_never_passes_the_bid():
    bid = Bid("cpc", 50, 2)  # $0.50 a click at 2%: eCPM $10
    # The next ad's score is $5: the winner needed a $0.25 click (25 cents = 25,000 milli)
    assert auction_price_milli(bid, 0.02, 1.0, 5.0) == 25_000
    # Relevance counts: at half the relevance it needed twice the bid to keep its place, capped at its own
    assert auction_price_milli(bid, 0.02, 0.5, 5.0) == 50_000
    assert auction_price_milli(bid, 0.02, 1.0, 50.0) == 50_000
    # Alone: the reserve ($0.50 CPM) over a 2% CTR is 2.5 cents
    assert auction_price_milli(bid, 0.02, 1.0, None) == 2_500
    cpm = Bid("cpm", 300, 2)
    assert auction_price_milli(cpm, 0.0, 1.0, 2.0) == 200  # $2 CPM: 0.2 cents an impression
    assert auction_price_milli(cpm, 0.0, 1.0, 9.0) == 300
