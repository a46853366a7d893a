"""Curated collections: sets of products from several shops' active campaigns, per country.

Two kinds, rebuilt by every refresh from the ads it is about to publish:

* **trending**: per country and top-level category, the campaigns with the best predicted click
  rate in the feed ("Trending in Outdoor");
* **under**: per country, the campaigns whose hero product costs at most a round price in the
  country's currency ("Under $25"), best click rate first.

A collection needs ads of at least :data:`MIN_SHOPS` shops (one product per shop: a collection is a
showcase of the marketplace, not of one merchant), and keeps up to :data:`MAX_MEMBERS` candidates so
a decision still fills its four places when some are capped, throttled or exhausted. Special
categories (health, religion ...) never make a collection: a collection is targeting by category.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from babel.numbers import format_currency

from .snapshot import Ad, Collection

MIN_SHOPS = 4
MAX_MEMBERS = 12
# "Under <amount>" in major units of the currency; the first that holds enough shops' ads wins.
UNDER_LIMITS = {"USD": (25, 50), "EUR": (25, 50), "GBP": (20, 40), "BRL": (100, 200), "INR": (1000, 2500)}


def build_collections(ads: Iterable[Ad], is_special: Callable[[str | None], bool]) -> list[Collection]:
    by_country: dict[str, list[Ad]] = {}
    for ad in ads:
        if "marketplace_feed" in ad.placements:
            for country in ad.countries:
                by_country.setdefault(country, []).append(ad)
    out: list[Collection] = []
    for country, listed in sorted(by_country.items()):
        ranked = sorted(listed, key=lambda ad: ad.ctr.get("marketplace_feed", 0.0), reverse=True)
        by_category: dict[str, list[Ad]] = {}
        for ad in ranked:
            top = _top_category(ad)
            if top and not is_special(top) and not any(is_special(c) for c in ad.categories):
                by_category.setdefault(top, []).append(ad)
        for category, members in sorted(by_category.items()):
            picked = _one_per_shop(members)
            if len(picked) >= MIN_SHOPS:
                out.append(
                    _collection(country, "trending", category, f"Trending in {category}", picked, None)
                )
        out.extend(_under(country, ranked))
    return out


def _under(country: str, ranked: list[Ad]) -> list[Collection]:
    if not ranked:
        return []
    currency = ranked[0].currency
    for limit in UNDER_LIMITS.get(currency, ()):
        exponent = ranked[0].bid.exponent
        cap = limit * 10**exponent
        cheap = [ad for ad in ranked if ad.currency == currency and _hero_price(ad) <= cap]
        picked = _one_per_shop(cheap)
        if len(picked) >= MIN_SHOPS:
            # The API's titles are English; price_limit lets a client write its own.
            amount = format_currency(limit, currency, format="¤#,##0", locale="en_US", currency_digits=False)
            title = f"Under {amount}"
            limit_money = {"amount": cap, "currency": currency}
            return [_collection(country, "under", None, title, picked, limit_money)]
    return []


def _hero_price(ad: Ad) -> int:
    hero = ad.products[0]
    price = hero.sale_price or hero.price
    return int(price["amount"])


def _top_category(ad: Ad) -> str | None:
    for category in ad.categories:
        head = category.split(">")[0].strip()
        if head:
            return head
    return None


def _one_per_shop(ads: list[Ad]) -> list[Ad]:
    seen: set[str] = set()
    picked = []
    for ad in ads:
        if ad.shop_id not in seen:
            seen.add(ad.shop_id)
            picked.append(ad)
            if len(picked) == MAX_MEMBERS:
                break
    return picked


def _collection(
    country: str, kind: str, category: str | None, title: str, members: list[Ad], price_limit: dict | None
) -> Collection:
    digest = hashlib.sha256(f"{country}\x00{kind}\x00{category or ''}".encode()).hexdigest()[:24]
    return Collection(
        id=f"col_{digest}",
        country=country,
        category=category,
        title=title,
        kind=kind,
        price_limit=price_limit,
        campaign_ids=tuple(ad.campaign_id for ad in members),
    )
