"""Ranking and pricing of ads: predicted click rate, relevance, eCPM, and the second-price rule.

* **Predicted CTR** is the campaign's click rate smoothed with a Beta prior (the placement's
  average, worth :data:`PRIOR_IMPRESSIONS` impressions): a new campaign starts at the average
  instead of 0 or 1, and its own clicks take over as impressions accumulate. Counts decay by the
  hour (:data:`HOURLY_DECAY`), so a creative that stopped working is found out within days.
* **Relevance** of an ad to its context, in [:data:`MIN_RELEVANCE`, 1]: the best of the query's
  words against the ad's words (idf-weighted), the category (a path prefix counts), and, where the
  caller has one, the text-embedding similarity the search already computed for the ad's products.
  Without any context (the plain feed) every ad has relevance 1.
* **Rank**: ``eCPM x relevance``, where eCPM is the bid per thousand impressions (a CPC bid times
  the predicted CTR times 1000).
* **Price**: what the winner would have had to bid to keep its place over the next ad (or the
  reserve), plus one milli-minor unit; never above its own bid.

Money in an auction is compared in major units of its currency (a country's shops share one).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PRIOR_CTR = {"marketplace_feed": 0.015, "search": 0.03}
PRIOR_IMPRESSIONS = 200.0
HOURLY_DECAY = 0.98
MIN_RELEVANCE = 0.05
# Below this an ad is off topic for a query: not shown, however high its bid.
RELEVANCE_FLOOR = 0.2
# The least a thousand impressions sell for, in major units of the currency (the reserve price).
RESERVE_ECPM = 0.5


def predicted_ctr(clicks: float, impressions: float, placement: str) -> float:
    prior = PRIOR_CTR.get(placement, 0.02)
    return (clicks + prior * PRIOR_IMPRESSIONS) / (impressions + PRIOR_IMPRESSIONS)


def decayed_counts(impressions: float, clicks: float, hours: int, new_impressions: int, new_clicks: int):
    """Counts after ``hours`` hours of decay, with one hour's new counts added."""
    factor = HOURLY_DECAY ** max(hours, 0)
    return impressions * factor + new_impressions, clicks * factor + new_clicks


def category_match(wanted: str | None, categories: Iterable[str]) -> float:
    """1 for the same category, 0.7 when one is a path prefix of the other ("Shoes" and
    "Shoes > Boots"), 0 otherwise. Paths are compared case-folded, segment by segment."""
    if not wanted:
        return 0.0
    return path_match(segments(wanted), [segments(c) for c in categories])


def path_match(target: tuple[str, ...], paths: Iterable[tuple[str, ...]]) -> float:
    """:func:`category_match` on paths already split (see :func:`segments`)."""
    best = 0.0
    for path in paths:
        if path == target:
            return 1.0
        shorter = min(len(path), len(target))
        if shorter and path[:shorter] == target[:shorter]:
            best = 0.7
    return best


def segments(category: str) -> tuple[str, ...]:
    return tuple(part.strip().casefold() for part in category.split(">") if part.strip())


def word_match(query_words: Sequence[str], ad_words: Mapping[str, float]) -> float:
    """The idf-weighted share of the query's words the ad carries (its titles, keywords, category)."""
    if not query_words:
        return 0.0
    total = matched = 0.0
    for word in query_words:
        weight = ad_words.get(word)
        idf = weight if weight is not None else 1.0
        total += idf
        if weight is not None:
            matched += idf
    return matched / total if total else 0.0


def relevance(
    *,
    query_words: Sequence[str],
    ad_words: Mapping[str, float],
    category: float | None,
    semantic: float | None,
) -> float:
    """How well an ad fits its context, in [MIN_RELEVANCE, 1]: the best of its word match, its
    ``category`` match (see :func:`path_match`; None: no category asked for) and the search's
    ``semantic`` similarity; 1 when there is no context at all."""
    if not query_words and category is None and semantic is None:
        return 1.0
    scores = [word_match(query_words, ad_words), category or 0.0]
    if semantic is not None:
        scores.append(max(0.0, min(1.0, semantic)))
    return max(MIN_RELEVANCE, max(scores))


@dataclass(frozen=True)
class Bid:
    model: str  # cpc | cpm
    amount_minor: int
    exponent: int  # the currency's minor-unit exponent

    def ecpm(self, ctr: float) -> float:
        """Expected value of a thousand impressions, in major units."""
        major = self.amount_minor / 10**self.exponent
        return major * 1000 * ctr if self.model == "cpc" else major


def auction_price_milli(bid: Bid, ctr: float, rel: float, next_score: float | None) -> int:
    """The second price of the winner, in milli-minor units of the event it is charged on (a click
    for CPC, an impression for CPM): just enough to keep its rank over ``next_score`` (the next
    ad's eCPM x relevance), at least the reserve, never above its own bid."""
    scale = 10**bid.exponent
    needed_ecpm = max((next_score / rel) if next_score is not None and rel > 0 else 0.0, RESERVE_ECPM)
    if bid.model == "cpm":
        # Minor units per thousand impressions are milli-minor units per impression.
        needed, ceiling = needed_ecpm * scale, bid.amount_minor
    else:
        needed, ceiling = needed_ecpm / (1000 * max(ctr, 1e-9)) * scale * 1000, bid.amount_minor * 1000
    return max(1, min(math.ceil(needed - 1e-9), ceiling))
