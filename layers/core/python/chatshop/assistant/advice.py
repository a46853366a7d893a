"""Advice: the shop's products that answer a question, best first; or, when none does, the nearest.

A product is advised when it fits every constraint of the question and is relevant to its product
words. Relevance is an absolute test, never a rank: the search always returns something, and its
first result for "kayak" in a shop without kayaks is a product that must not be offered as one.

The surest evidence is the product's own name: its title, brand and category naming every word of
the question (or the customer typing its retailer id). When the shop has products named so, in the
category asked for, those are what was asked for, and a product only near in meaning is not one
("wool blanket": a wool sock scores 0.60 by the text model, as high as some true matches) unless the
text model is very sure. When none is named so ("waterproof jacket" where no jacket's title says
"waterproof"), meaning decides: a cosine over a threshold, or a description naming every word and a
lower cosine. The thresholds were measured on the labelled advice set (``tests/assistant_advice``).
Price, stock, colour and size do not change which tier applies: they choose among products of a kind,
they do not say what kind was asked for. A question without product words ("something blue under
$30") is answered from every product that fits.

When nothing fits, the answer says so and names the nearest products with what each breaks; when
nothing is even relevant, the products nearest in meaning, marked as another kind. Every product
named comes from the catalog given, so no answer invents a product or a price.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal, Protocol

from chatshop.shops.domain import Product

from .constraints import ConstraintKind, Constraints, Question, broken, effective_price
from .vocabulary import in_stock_now, singular, stems

# Measured with bench/advice_quality.py --calibrate on the labelled set: the MiniLM cosine of the
# question's product words against the product's title, brand and description.
# Where products are named by every word, another needs this much to count (0.69 for a night cream
# asked as "face cream"; unwanted neighbours reach 0.60).
COSINE_SURE = 0.65
# Where none is, this much alone (earbuds asked as "earphones" 0.55-0.56; a fitness tracker asked
# as "smartwatch" 0.49, a mouse as "keyboard" 0.36).
COSINE_ALONE = 0.55
# Or a description naming every word and this much (rain jackets asked as "waterproof": 0.38-0.41).
COSINE_WITH_DESCRIPTION = 0.3
# Below this a product is too far in meaning to be offered even as another kind ("kayak": sandals
# at 0.37; "trainers": road running shoes at 0.44).
COSINE_NEAR = 0.4

# How far a product that breaks a constraint is from what was asked: a price a little over the
# budget is nearer than another colour, which is nearer than another kind of product.
_DISTANCE: Mapping[ConstraintKind, float] = {
    "price": 0.5,
    "color": 1.0,
    "size": 1.2,
    "stock": 1.5,
    "brand": 1.5,
    "category": 2.0,
}
# A price gap counts by its share of the bound, up to this much.
_MAX_PRICE_GAP = 2.0

Why = Literal["fits", "nothing_fits", "nothing_relevant", "empty"]


class Evidence(Protocol):
    """What the search found out about one product (``chatshop.search.service.ScoredResult``)."""

    @property
    def product_id(self) -> str: ...

    @property
    def cosine(self) -> float: ...

    @property
    def sku(self) -> bool: ...


@dataclass(frozen=True)
class Relevance:
    sku: bool = False
    named: float = 0.0  # the share of the product words its title, brand and category contain
    described: float = 0.0  # the same, its description included
    cosine: float = 0.0

    @property
    def named_in_full(self) -> bool:
        return self.sku or self.named == 1.0

    @property
    def near(self) -> bool:
        """Near enough in meaning where no product is named by every word."""
        return self.cosine >= COSINE_ALONE or (
            self.described == 1.0 and self.cosine >= COSINE_WITH_DESCRIPTION
        )

    @property
    def sure(self) -> bool:
        """Near enough in meaning to stand beside products named by every word."""
        return self.cosine >= COSINE_SURE

    @property
    def strength(self) -> tuple[bool, bool, float]:
        """Higher is better: a typed SKU, then all words named, then meaning."""
        return (self.sku, self.named == 1.0, self.cosine)


@dataclass(frozen=True)
class Alternative:
    product: Product
    breaks: tuple[ConstraintKind, ...]  # "category" also when it is another kind than was asked


@dataclass(frozen=True)
class Advice:
    fitting: tuple[Product, ...]
    alternatives: tuple[Alternative, ...]
    why: Why

    @property
    def broken(self) -> dict[str, tuple[ConstraintKind, ...]]:
        """Per alternative's product id, what it breaks (the shape the answer carries)."""
        return {a.product.id: a.breaks for a in self.alternatives}


@dataclass(frozen=True)
class _Judged:
    product: Product
    relevance: Relevance
    position: int  # in the search's order; products it did not return come after, in catalog order


def advise(
    question: Question, catalog: Sequence[Product], candidates: Iterable[Evidence], limit: int = 3
) -> Advice:
    """At most ``limit`` products that fit ``question``, best first; else the nearest, each with what
    it breaks. ``catalog`` is the shop's products; ``candidates`` the search's results for
    ``question.search_text``, best first (only their evidence is used: products come from the catalog)."""
    question = _known_words_only(question, catalog)
    judged = _judge(question, catalog, list(candidates))
    if not judged:
        return Advice((), (), "empty")
    relevant = _relevant(judged, question) if question.terms else judged
    fitting = [j for j in relevant if not broken(j.product, question.constraints)]
    if fitting:
        ranked = _ranked(fitting, question.constraints.cheap)
        return Advice(tuple(j.product for j in _varied(ranked, limit)), (), "fits")
    if relevant:
        return Advice((), _nearest(relevant, question.constraints, limit), "nothing_fits")
    return Advice((), _nearest_in_meaning(judged, question.constraints, limit), "nothing_relevant")


def _known_words_only(question: Question, catalog: Sequence[Product]) -> Question:
    """The question without the words no product of the catalog has, when what is left still says
    what is wanted: "a warm jacket" in a shop whose jackets never say "warm" asks for its jackets,
    while "surfboards", with nothing left, stays a question the catalog cannot answer."""
    if not question.terms:
        return question
    known = (
        frozenset().union(*(stems(f"{_named(p)} {p.description}") for p in catalog))
        if catalog
        else frozenset()
    )
    kept = tuple(t for t in question.terms if singular(t) in known)
    if len(kept) == len(question.terms) or not (kept or question.constraints.values("category")):
        return question
    return replace(question, terms=kept)


def _named(product: Product) -> str:
    return f"{product.title} {product.brand or ''} {(product.category or '').replace('>', ' ')}"


def _relevant(judged: Sequence[_Judged], question: Question) -> list[_Judged]:
    """The products relevant to the question's words, by the tier its category's products call for."""
    category = Constraints(attributes=tuple(("category", v) for v in question.constraints.values("category")))
    scope = [j for j in judged if not broken(j.product, category)]
    if any(j.relevance.named_in_full for j in scope):
        return [j for j in judged if j.relevance.named_in_full or j.relevance.sure]
    return [j for j in judged if j.relevance.named_in_full or j.relevance.near]


def _judge(question: Question, catalog: Sequence[Product], candidates: Sequence[Evidence]) -> list[_Judged]:
    evidence = {}
    for position, candidate in enumerate(candidates):
        evidence.setdefault(candidate.product_id, (position, candidate))
    terms = frozenset(singular(t) for t in question.terms)
    excluded = set(question.excluded)
    judged = []
    for index, product in enumerate(catalog):
        if product.id in excluded:
            continue
        position, found = evidence.get(product.id, (len(evidence) + index, None))
        judged.append(_Judged(product, relevance(terms, product, found), position))
    return judged


def relevance(terms: frozenset[str], product: Product, evidence: Evidence | None) -> Relevance:
    """How ``product`` relates to the (singular) product words ``terms``."""
    cosine = evidence.cosine if evidence is not None else 0.0
    sku = evidence.sku if evidence is not None else False
    if not terms:
        return Relevance(sku=sku, cosine=cosine)
    named_words = stems(f"{product.title} {product.brand or ''} {(product.category or '').replace('>', ' ')}")
    described_words = named_words | stems(product.description)
    return Relevance(
        sku=sku,
        named=len(terms & named_words) / len(terms),
        described=len(terms & described_words) / len(terms),
        cosine=cosine,
    )


def _ranked(fitting: Sequence[_Judged], cheap: bool) -> list[_Judged]:
    """What can be had now first; then the cheapest when asked for cheap, else the most relevant."""

    def key(j: _Judged) -> tuple:
        sku, named, cosine = j.relevance.strength
        now = not in_stock_now(j.product)
        if cheap:
            return (now, effective_price(j.product), not sku, not named, j.position)
        return (now, not sku, not named, -cosine, j.position)

    return sorted(fitting, key=key)


def _varied(ranked: Sequence[_Judged], limit: int) -> list[_Judged]:
    """The best of each item group first: three sizes of one sock are one choice, not three."""
    first, rest, groups = [], [], set()
    for j in ranked:
        group = j.product.item_group_id or j.product.id
        (rest if group in groups else first).append(j)
        groups.add(group)
    return [*first, *rest][:limit]


def _nearest(relevant: Sequence[_Judged], constraints: Constraints, limit: int) -> tuple[Alternative, ...]:
    def key(j: _Judged) -> tuple:
        sku, named, cosine = j.relevance.strength
        return (
            _distance(j.product, constraints),
            not in_stock_now(j.product),
            not named,
            -cosine,
            j.position,
        )

    # Another kind only when the kind asked for has nothing at all: variety across item groups must
    # not put a green t-shirt before the other colours of the water bottle asked for in green.
    same_kind = [j for j in relevant if "category" not in broken(j.product, constraints)]
    ranked = _varied(sorted(same_kind or relevant, key=key), limit)
    return tuple(Alternative(j.product, broken(j.product, constraints)) for j in ranked)


def _nearest_in_meaning(
    judged: Sequence[_Judged], constraints: Constraints, limit: int
) -> tuple[Alternative, ...]:
    near = [j for j in judged if j.relevance.cosine >= COSINE_NEAR]
    ranked = sorted(
        near,
        key=lambda j: (
            len(broken(j.product, constraints)),
            not in_stock_now(j.product),
            -j.relevance.cosine,
            j.position,
        ),
    )
    alternatives = []
    for j in _varied(ranked, limit):
        breaks = broken(j.product, constraints)
        alternatives.append(Alternative(j.product, breaks if "category" in breaks else (*breaks, "category")))
    return tuple(alternatives)


def _distance(product: Product, constraints: Constraints) -> float:
    kinds = broken(product, constraints)
    distance = sum(_DISTANCE[kind] for kind in kinds)
    if "price" in kinds:
        distance += _price_gap(effective_price(product), constraints)
    return distance


def _price_gap(price: Decimal, constraints: Constraints) -> float:
    if constraints.max_price is not None and price > constraints.max_price:
        bound, gap = constraints.max_price, price - constraints.max_price
    elif constraints.min_price is not None and price < constraints.min_price:
        bound, gap = constraints.min_price, constraints.min_price - price
    else:
        return 0.0
    return min(float(gap / bound) if bound > 0 else _MAX_PRICE_GAP, _MAX_PRICE_GAP)
