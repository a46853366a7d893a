"""The labelled advice set: one shop's catalog and the questions its customers ask, each labelled.

``catalog.json`` holds the products as the shop's API would give them, each with its ``truth``:
the kinds of product it is and its colours and sizes, as a person reading it would say, which
nothing under test reads. ``questions.json`` holds each question with the constraints it states
(in ``Constraints.to_dict``'s shape) and the ids of the acceptable first answers, none when
nothing fits; a follow-up names the question it follows and what was shown after it. Both are
written by ``build_set.py``; read by the assistant's tests and ``bench/advice_quality.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chatshop.assistant.constraints import Constraints, Question, effective_price, parse_question, refine
from chatshop.assistant.vocabulary import CatalogVocabulary
from chatshop.shops.domain import Product

HERE = Path(__file__).parent
SHOP_ID = "shop-advice"
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Truth:
    kinds: frozenset[str]
    colors: frozenset[str]
    sizes: frozenset[str]


@dataclass(frozen=True)
class Labelled:
    id: str
    language: str
    text: str
    wants: frozenset[str]  # kinds of product that answer it; empty: any product
    constraints: Constraints
    acceptable: tuple[str, ...]
    none_fits: bool
    after: str | None = None
    shown: tuple[str, ...] = ()
    sets_aside_shown: bool = False


@dataclass(frozen=True)
class AdviceSet:
    products: tuple[Product, ...]
    truths: dict[str, Truth]
    questions: tuple[Labelled, ...]

    def product(self, product_id: str) -> Product:
        return self._products[product_id]

    def question(self, question_id: str) -> Labelled:
        return self._questions[question_id]

    @property
    def _products(self) -> dict[str, Product]:
        return {p.id: p for p in self.products}

    @property
    def _questions(self) -> dict[str, Labelled]:
        return {q.id: q for q in self.questions}

    def vocabulary(self) -> CatalogVocabulary:
        return CatalogVocabulary.from_products(self.products)

    def asked(self, labelled: Labelled, vocabulary: CatalogVocabulary) -> Question:
        """The question as the assistant understands it in the labelled conversation: a follow-up
        refines the question it follows, after the products the label says were shown."""
        if labelled.after is None:
            return parse_question(labelled.text, vocabulary, labelled.language)
        earlier = self.asked(self.question(labelled.after), vocabulary)
        shown = [self.product(i) for i in labelled.shown]
        refined = refine(earlier, shown, labelled.text, vocabulary, labelled.language)
        return refined or parse_question(labelled.text, vocabulary, labelled.language)

    def truly_breaks(self, product: Product, constraints: Constraints) -> tuple[str, ...]:
        """The constraints ``product`` breaks by its truth and its own fields, not by any reading of
        its words: what the figures of the bench and the set's own checks go by."""
        truth = self.truths[product.id]
        price = effective_price(product)
        steps = {s.strip().casefold() for s in (product.category or "").split(">")}
        kinds = []
        if (constraints.min_price is not None and price < constraints.min_price) or (
            constraints.max_price is not None and price > constraints.max_price
        ):
            kinds.append("price")
        if constraints.in_stock and product.availability != "in stock":
            kinds.append("stock")
        checks = {
            "color": lambda v: v in truth.colors,
            "size": lambda v: v in truth.sizes,
            "brand": lambda v: v == product.brand,
            "category": lambda v: v.casefold() in steps,
        }
        for kind, has in checks.items():
            wanted = constraints.values(kind)  # type: ignore[arg-type]
            if wanted and not any(has(v) for v in wanted):
                kinds.append(kind)
        return tuple(kinds)

    def truly_wanted(self, product: Product, labelled: Labelled) -> bool:
        return not labelled.wants or bool(labelled.wants & self.truths[product.id].kinds)


def load() -> AdviceSet:
    rows = json.loads((HERE / "catalog.json").read_text(encoding="utf-8"))
    products = tuple(_product(row) for row in rows)
    truths = {row["id"]: _truth(row["truth"]) for row in rows}
    questions = tuple(
        _labelled(row) for row in json.loads((HERE / "questions.json").read_text(encoding="utf-8"))
    )
    return AdviceSet(products, truths, questions)


def _product(row: dict[str, Any]) -> Product:
    fields = {k: v for k, v in row.items() if k != "truth"}
    return Product(shop_id=SHOP_ID, version=1, created_at=CREATED, updated_at=CREATED, **fields)


def _truth(row: dict[str, Any]) -> Truth:
    return Truth(frozenset(row["kinds"]), frozenset(row["colors"]), frozenset(row["sizes"]))


def _labelled(row: dict[str, Any]) -> Labelled:
    return Labelled(
        id=row["id"],
        language=row["language"],
        text=row["text"],
        wants=frozenset(row["wants"]),
        constraints=Constraints.from_dict(row["constraints"]),
        acceptable=tuple(row["acceptable"]),
        none_fits=row["none_fits"],
        after=row.get("after"),
        shown=tuple(row.get("shown", ())),
        sets_aside_shown=row.get("sets_aside_shown", False),
    )
