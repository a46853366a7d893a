"""The ad decision: which ads a placement shows, at what price, and why (DSA Art. 26).

One function, :func:`decide`, used by ``POST /ads/decisions``, by the search results and by the
marketplace product lists, so every surface runs the same rules. Its inputs are the snapshot (the
refresh's, cached by ETag), the user (one DynamoDB read, made by the caller), the exhausted set
(a few seconds' cache) and, from the search, the text-embedding similarity of the query to the
products it found; it reads nothing else.

For each placement:

1. **Candidates**: with a context (query words, category, the search's similar products), the ads
   the snapshot's word and category indexes and the search hits name; without one, the country's
   ads best eCPM first (and, for a consenting adult, those of the categories they like).
2. **Filters**, cheapest first: this shop's own list shows only its ads; one ad per shop per
   response; not exhausted; inside its schedule; under the user's frequency cap; the pacing coin
   (``serve_p``) lets it through. Out-of-stock products never reach the snapshot.
3. **Rank** by ``eCPM x relevance`` (see ``ranking``); an ad off topic for its context is dropped.
4. **Price** by the second-price rule, never above the bid; the price rides in the signed token of
   the billable event (the impression of a CPM ad, the click of a CPC ad).

Frequency caps are checked twice: against the counts the user's one read returned (step 2, which
spares a write bound to fail), and, for the capped ads a known user is chosen, by reserving the
impression (:func:`reservations`, then ``UserStore.reserve``: one conditional write for all of them),
so concurrent decisions never pass a cap. The caller does the reserving; if it fails, the decision is
made again with ``without_capped`` and no capped ad, so it still costs one read and one write at most.

Personalisation: only where the user consented, never for a minor (DSA Art. 28), and never from a
special category (health, religion ...: DSA Art. 26(3)), consent or not. Without it, ads are
contextual: the placement's query or category and the country.
"""

from __future__ import annotations

import heapq
import random
import uuid
from bisect import insort
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chatshop.search.lexical import tokens

from .chat_links import campaign_chat_url
from .decision_models import (
    AdProductOut,
    Advertiser,
    ChosenAd,
    CollectionAd,
    DecisionRequest,
    DecisionResponse,
    PlacementDecision,
    PlacementIn,
    Why,
    WhyParameter,
)
from .ranking import RELEVANCE_FLOOR, auction_price_milli, path_match, relevance, segments
from .snapshot import Ad, Snapshot

# Without context, how deep down the eCPM order a placement looks for ads that pass its filters.
MAX_WALK = 400
# With context, how many candidates are scored at most.
MAX_CANDIDATES = 2000
TOP_INTERESTS = 5
PER_INTEREST = 40
MAX_WALK_PERSONAL = 100
HOW_TO_CHANGE = (
    "These ads are chosen from what you are looking at and your country. To have ads chosen from "
    "your activity too, or to stop it, change your consent for personalised ads at the controls "
    "address; you can also search or browse other categories."
)


class UserView(Protocol):
    """The user's side of a decision (``chatshop.ads.users.UserContext``)."""

    personalised: bool
    minor: bool
    affinities: dict[str, float]

    def impressions(self, campaign_id: str, window: str) -> int: ...


class Signer(Protocol):
    def __call__(
        self,
        *,
        kind: str,
        decision_id: str,
        campaign_id: str,
        ad_id: str,
        user_key: str | None,
        price_milli: int,
        category: str | None,
        destination: str | None,
        reserved: str | None,
    ) -> str: ...


@dataclass
class DecisionInputs:
    snapshot: Snapshot
    user: UserView
    exhausted: frozenset[str]
    now: datetime
    sign: Signer
    event_url: Callable[[str], str]
    is_special: Callable[[str | None], bool]
    # The search's similarity of the query to products it found: product id -> cosine in [0, 1].
    semantic: Mapping[str, float] | None = None
    # On a shop's own product list: only that shop's ads.
    own_shop: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    controls_url: str | None = None
    # A reservation of this user's capped ads failed (a cap reached meanwhile): decide without them.
    without_capped: bool = False


@dataclass
class _Scored:
    ad: Ad
    score: float
    rel: float
    # (type, value, source) of the why; made into models only for the ads chosen.
    reasons: list[tuple[str, str, str]]


def decide(request: DecisionRequest, inputs: DecisionInputs) -> DecisionResponse:
    decision_id = uuid.uuid4().hex
    used_shops: set[str] = set()
    personal = _interests(inputs)
    out = []
    for placement in request.placements:
        scored = _ranked(placement, request.user.country, inputs, personal, used_shops)
        chosen: list[ChosenAd] = []
        for index, entry in enumerate(scored):
            if len(chosen) == placement.count:
                break
            if entry.ad.shop_id in used_shops:
                continue
            following = next((s.score for s in scored[index + 1 :] if s.ad.shop_id != entry.ad.shop_id), None)
            chosen.append(_chosen(entry, following, placement, decision_id, request, inputs, personal))
            used_shops.add(entry.ad.shop_id)
        out.append(PlacementDecision(id=placement.id, type=placement.type, ads=chosen))
    return DecisionResponse(decision_id=decision_id, placements=out)


def curated_collection(
    country: str, inputs: DecisionInputs, decision_id: str, user_key: str | None
) -> CollectionAd | None:
    """The best curated collection of the country for this user: a hero and three more ads, each of
    its own shop, every one through the same filters as a single ad."""
    collections = inputs.snapshot.collections_by_country.get(country, [])
    placement = PlacementIn(id="collection", type="marketplace_feed", count=4)
    request = DecisionRequest(placements=[placement], user={"country": country, "key": user_key})
    personal = _interests(inputs)
    for collection in collections:
        used: set[str] = set()
        members: list[_Scored] = []
        for campaign_id in collection.campaign_ids:
            ad = inputs.snapshot.ads.get(campaign_id)
            if ad is None or ad.shop_id in used or not _passes(ad, "marketplace_feed", inputs):
                continue
            reasons = [("location", country, "the country you shop in")]
            if collection.category:
                reasons.append(("category", collection.category, "a curated collection"))
            members.append(_Scored(ad, ad.static_ecpm.get("marketplace_feed", 0.0), 1.0, reasons))
            used.add(ad.shop_id)
            if len(members) == 4:
                break
        if len(members) < 4:
            continue
        members.sort(key=lambda s: s.score, reverse=True)
        ads = [
            _chosen(
                m,
                members[i + 1].score if i + 1 < len(members) else None,
                placement,
                decision_id,
                request,
                inputs,
                personal,
            )
            for i, m in enumerate(members)
        ]
        return CollectionAd(collection_id=collection.id, title=collection.title, ads=ads)
    return None


def reservations(
    response: DecisionResponse, snapshot: Snapshot, user_key: str | None
) -> list[tuple[str, str, int]]:
    """``(campaign_id, window, cap)`` of each capped ad the response shows a known user (its
    placements' ads and its collection's), to be reserved before it is answered."""
    if not user_key:
        return []
    chosen = [ad for placement in response.placements for ad in placement.ads]
    chosen += [
        ad for placement in response.placements if placement.collection for ad in placement.collection.ads
    ]
    out = []
    for campaign_id in dict.fromkeys(c.campaign_id for c in chosen):
        capped = snapshot.ads.get(campaign_id)
        if capped is not None and capped.cap is not None:
            out.append((campaign_id, capped.cap[1], capped.cap[0]))
    return out


# --- candidates, filters, scores ---


def _interests(inputs: DecisionInputs) -> dict[str, tuple[float, tuple[str, ...]]]:
    """The user's category affinities a decision may use: with consent, not a minor, no special category."""
    user = inputs.user
    if not user.personalised or user.minor:
        return {}
    usable = {c: s for c, s in user.affinities.items() if s > 0 and not inputs.is_special(c)}
    top = sorted(usable.items(), key=lambda kv: kv[1], reverse=True)[:TOP_INTERESTS]
    if not top:
        return {}
    best = top[0][1]
    return {category: (score / best, segments(category)) for category, score in top}


def _passes(ad: Ad, placement: str, inputs: DecisionInputs) -> bool:
    if inputs.own_shop is not None and ad.shop_id != inputs.own_shop:
        return False
    if ad.campaign_id in inputs.exhausted:
        return False
    now = inputs.now.timestamp()
    if now < ad.start or (ad.end is not None and now >= ad.end):
        return False
    if ad.cap is not None and (
        inputs.without_capped or inputs.user.impressions(ad.campaign_id, ad.cap[1]) >= ad.cap[0]
    ):
        return False
    return ad.serve_p >= 1.0 or inputs.rng.random() < ad.serve_p


def _ranked(
    placement: PlacementIn,
    country: str,
    inputs: DecisionInputs,
    personal: dict[str, tuple[float, tuple[str, ...]]],
    used_shops: set[str],
) -> list[_Scored]:
    snapshot, kind = inputs.snapshot, placement.type
    context = placement.context
    words = tokens(context.query) if context.query else []
    semantic = inputs.semantic if kind == "search" else None
    has_context = bool(words or context.category or semantic)
    category_path = segments(context.category) if context.category else None

    def ecpm(ad: Ad) -> float:
        return ad.static_ecpm.get(kind, 0.0)

    # Candidate lists, each best context-free eCPM first (the snapshot keeps its indexes so),
    # merged lazily: the walk below usually stops after a few ads of each.
    if has_context:
        sources: list[Sequence[Ad]] = [snapshot.with_word(country, kind, word) for word in words]
        if context.category:
            sources.append(snapshot.in_category(country, kind, context.category))
        if semantic:
            similar = [
                ad
                for product_id in semantic
                for ad in snapshot.with_product(product_id)
                if country in ad.countries and kind in ad.placements
            ]
            sources.append(sorted(similar, key=ecpm, reverse=True))
    else:
        sources = [snapshot.ranked(country, kind)[: MAX_WALK_PERSONAL if personal else MAX_WALK]]
        # The best few of each liked category join the walk.
        sources += [snapshot.in_category(country, kind, liked)[:PER_INTEREST] for liked in personal]
    pool = _distinct(heapq.merge(*sources, key=ecpm, reverse=True) if len(sources) > 1 else iter(sources[0]))
    # The pool goes best context-free eCPM first and relevance is at most `ceiling`, so once
    # `need` ads scored above what the next could reach at best, no later ad can rank among them.
    ceiling = 2.0 if personal else 1.0
    need = placement.count + 1 + len(used_shops)
    scored: list[_Scored] = []
    best: list[float] = []  # the scores so far, negated and sorted: best[need - 1] is the bar
    for looked, ad in enumerate(pool):
        if looked == MAX_CANDIDATES or (len(best) >= need and -best[need - 1] >= ecpm(ad) * ceiling):
            break
        if ad.shop_id in used_shops or (context.product_id and _shows(ad, context.product_id)):
            continue
        if not _passes(ad, kind, inputs):
            continue
        rel, reasons = _relevance(
            ad, country, words, context.query, context.category, category_path, semantic, personal, inputs
        )
        if has_context and rel < RELEVANCE_FLOOR:
            continue
        score = ecpm(ad) * rel
        scored.append(_Scored(ad, score, rel, reasons))
        insort(best, -score)
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


def _distinct(ads: Iterator[Ad]) -> Iterator[Ad]:
    seen: set[str] = set()
    for ad in ads:
        if ad.campaign_id not in seen:
            seen.add(ad.campaign_id)
            yield ad


def _shows(ad: Ad, product_id: str) -> bool:
    return any(product.id == product_id for product in ad.products)


def _relevance(
    ad: Ad,
    country: str,
    words: list[str],
    query: str | None,
    category: str | None,
    category_path: tuple[str, ...] | None,
    semantic: Mapping[str, float] | None,
    personal: dict[str, tuple[float, tuple[str, ...]]],
    inputs: DecisionInputs,
) -> tuple[float, list[tuple[str, str, str]]]:
    # Special categories never target: the refresh leaves them out of an ad's categories and words,
    # and an ad's paths are checked again here once per snapshot, whoever built it.
    if not ad.vetted:
        ad.paths = tuple(
            path for path, c in zip(ad.paths, ad.categories, strict=True) if not inputs.is_special(c)
        )
        ad.vetted = True
    paths = ad.paths
    similarity = max((semantic.get(p.id, 0.0) for p in ad.products), default=0.0) if semantic else None
    category_score = path_match(category_path, paths) if category_path else None
    rel = relevance(query_words=words, ad_words=ad.words, category=category_score, semantic=similarity)
    reasons = [("location", country, "the country you shop in")]
    if query:
        reasons.append(("context", query, "your search"))
        query_words = set(words)
        matched = next((k for k in ad.keywords if query_words & set(k.casefold().split())), None)
        if matched:
            reasons.append(("keyword", matched, "a keyword the advertiser chose"))
    if category and category_score:
        reasons.append(("category", category, "the category you are browsing"))
    if personal:
        # An interest in "shoes" lifts an ad in "Shoes > Boots" (a path prefix counts, a little less).
        interest = max(
            ((score * path_match(path, paths), liked) for liked, (score, path) in personal.items()),
            default=(0.0, ""),
        )
        if interest[0] > 0:
            # A consenting adult's interest lifts an ad, up to doubling its rank.
            rel *= 1.0 + interest[0]
            source = "your activity on the marketplace, used with your consent"
            reasons.append(("interest", interest[1], source))
    return rel, reasons


# --- the chosen ad ---


def _chosen(
    entry: _Scored,
    next_score: float | None,
    placement: PlacementIn,
    decision_id: str,
    request: DecisionRequest,
    inputs: DecisionInputs,
    personal: dict[str, tuple[float, tuple[str, ...]]],
) -> ChosenAd:
    ad = entry.ad
    ctr = ad.ctr.get(placement.type, 0.0)
    price = auction_price_milli(ad.bid, ctr, entry.rel, next_score)
    hero = ad.products[0]
    destination = _destination(ad)
    category = hero.category if hero.category and not inputs.is_special(hero.category) else None
    user_key = request.user.key
    tokens_ = {
        kind: inputs.sign(
            kind=kind,
            decision_id=decision_id,
            campaign_id=ad.campaign_id,
            ad_id=ad.campaign_id,
            user_key=user_key,
            price_milli=price if (kind == "impression") == (ad.bid.model == "cpm") else 0,
            category=category,
            destination=destination,
            reserved=ad.cap[1] if kind == "impression" and ad.cap is not None and user_key else None,
        )
        for kind in ("impression", "click")
    }
    shop = Advertiser(shop_id=ad.shop_id, name=ad.shop_name)
    personalised = any(kind == "interest" for kind, _, _ in entry.reasons)
    controls = {"consent": inputs.controls_url} if inputs.controls_url else {}
    return ChosenAd(
        ad_id=ad.campaign_id,
        campaign_id=ad.campaign_id,
        format="collection" if len(ad.products) > 1 else "product",
        headline=ad.headline,
        advertiser=shop,
        paid_by=shop,
        objective=ad.objective,  # type: ignore[arg-type]
        products=[
            AdProductOut(
                id=p.id, title=p.title, price=p.price, sale_price=p.sale_price, image_url=p.image, link=p.link
            )
            for p in ad.products
        ],
        destination=destination,
        impression_url=inputs.event_url(tokens_["impression"]),
        click_url=inputs.event_url(tokens_["click"]),
        why=Why(
            personalised=personalised,
            parameters=[WhyParameter(type=t, value=v, source=src) for t, v, src in entry.reasons],
            how_to_change=HOW_TO_CHANGE,
            controls=controls,
        ),
    )


def _destination(ad: Ad) -> str | None:
    """Where a click goes: the product for ``traffic``; the shop's WhatsApp chat for ``messages``
    (wa.me with the shop's number and a first line naming the product and carrying the campaign's
    link code, so the chat and its orders are credited to the campaign; when the number is known)."""
    hero = ad.products[0]
    if ad.objective == "messages" and ad.destination:
        return campaign_chat_url(ad.destination, ad.campaign_id, hero.title)
    return hero.link
