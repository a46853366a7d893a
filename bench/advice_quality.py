"""Advice quality: does the assistant answer a customer's question with a product that fits it?

The labelled advice set (``tests/assistant_advice``: a shop of 250 products, 130 questions in
English, Spanish, Brazilian Portuguese and Hindi, ten follow-ups among them) is indexed the way the
indexer indexes a shop, in memory: the real MiniLM text vectors in an exact index, the lexical
index of titles, brands and SKUs. Each question goes the assistant's way: ``parse_question`` (or
``refine``, after the products its label says were shown), the real ``SearchService`` hybrid search
for its search text, then ``advise``. Printed, overall and per language:

- fitting first: of the questions something fits, the share answered with an acceptable product first
  (target at least 0.9);
- breaking: of the answers that name products as fitting, the share naming one that breaks a stated
  constraint, judged by the products' labelled truth, not by the parser's reading (target 0);
- honest none: of the questions nothing fits, the share answered with none (and alternatives);
- unwanted: of the answers naming products, the share naming a product of a kind not asked for.

``--calibrate`` prints how the MiniLM cosine of a question's product words separates the products
they ask for from the others: the figures ``chatshop.assistant.advice``'s thresholds come from.
``--misses`` lists the questions answered wrongly.

    .venv/bin/python bench/advice_quality.py
    .venv/bin/python bench/advice_quality.py --calibrate --misses
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The labelled set lives with the tests; the bench reads it from the repository, not an install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chatshop.assistant import advice as thresholds  # noqa: E402
from chatshop.assistant.advice import Advice, advise, relevance  # noqa: E402
from chatshop.assistant.constraints import Constraints, Question  # noqa: E402
from chatshop.assistant.vocabulary import singular  # noqa: E402
from chatshop.platform.config import Settings  # noqa: E402
from chatshop.search.documents import product_document  # noqa: E402
from chatshop.search.embedder import SentenceTransformersEmbedder  # noqa: E402
from chatshop.search.exact import ExactIndex  # noqa: E402
from chatshop.search.lexical import LexicalEntry, LexicalIndex  # noqa: E402
from chatshop.search.service import ScoredResult, SearchScope, SearchService  # noqa: E402
from chatshop.search.vectors import VectorRecord  # noqa: E402
from chatshop.shops.domain import Product, Shop  # noqa: E402
from chatshop.shops.product_store import Listed  # noqa: E402
from tests.assistant_advice.labelled import SHOP_ID, AdviceSet, Labelled, load  # noqa: E402

COUNTRY = "US"
# As many results as the question worker asks for: more than the reply names, for "more".
SEARCH_LIMIT = 30
LANGUAGES = ("en", "es", "pt_BR", "hi")


# --- The shop, indexed in memory ------------------------------------------------------------------


class InMemoryCatalog:
    def __init__(self, shop: Shop, products: Sequence[Product]) -> None:
        self._shop = shop
        self._products = {p.id: p for p in products}

    def get_listed(self, keys: Sequence[tuple[str, str]]) -> Listed:
        return Listed(
            shops={self._shop.id: self._shop},
            products={pid: self._products[pid] for _, pid in keys if pid in self._products},
        )


class TextIndexes:
    """The text space only: the bench's CLIP is the untrained one, which gets no vote anyway."""

    def __init__(self, text: ExactIndex) -> None:
        self._text = text
        self._empty = ExactIndex(1)

    def for_query(self, space: str, shop_id: str | None) -> ExactIndex:
        return self._text if space == "text" else self._empty


class OneLexicon:
    def __init__(self, index: LexicalIndex) -> None:
        self._index = index

    def for_query(self, shop_id: str | None) -> LexicalIndex:
        return self._index


def shop() -> Shop:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return Shop(
        id=SHOP_ID,
        merchant_id="m",
        name="Advice shop",
        description="",
        country=COUNTRY,
        currency="USD",
        status="active",
        timezone="UTC",
        created_at=now,
        updated_at=now,
    )


def build_service(embedder: SentenceTransformersEmbedder, products: Sequence[Product]) -> SearchService:
    documents = [product_document(p, COUNTRY) for p in products]
    vectors = embedder.embed_texts([d.text for d in documents])
    text = ExactIndex(vectors.shape[1])
    text.upsert([VectorRecord(d.product_id, v, d.metadata) for d, v in zip(documents, vectors, strict=True)])
    lexicon = LexicalIndex(
        LexicalEntry.of(p.id, p.shop_id, COUNTRY, p.retailer_id, p.title, p.brand) for p in products
    )
    return SearchService(embedder, TextIndexes(text), OneLexicon(lexicon), InMemoryCatalog(shop(), products))


# --- Judging answers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    labelled: Labelled
    question: Question
    advice: Advice

    def first_fits(self) -> bool:
        return bool(self.advice.fitting) and self.advice.fitting[0].id in self.labelled.acceptable


def judge(data: AdviceSet, outcomes: Sequence[Outcome], misses: bool) -> None:
    print(f"{'':<8}{'n':>5}{'fitting first':>15}{'breaking':>10}{'honest none':>13}{'unwanted':>10}")
    for language in (*LANGUAGES, "all"):
        chosen = [o for o in outcomes if language in ("all", o.labelled.language)]
        print(f"{language:<8}{len(chosen):>5}" + figures(data, chosen))
    if misses:
        print("\nmisses:")
        for o in outcomes:
            print_miss(data, o)


def figures(data: AdviceSet, outcomes: Sequence[Outcome]) -> str:
    answerable = [o for o in outcomes if not o.labelled.none_fits]
    nothing = [o for o in outcomes if o.labelled.none_fits]
    answered = [o for o in outcomes if o.advice.fitting]
    breaking = [
        o for o in answered if any(data.truly_breaks(p, o.labelled.constraints) for p in o.advice.fitting)
    ]
    unwanted = [o for o in answered if not all(data.truly_wanted(p, o.labelled) for p in o.advice.fitting)]
    return (
        share(sum(o.first_fits() for o in answerable), len(answerable), 15)
        + share(len(breaking), len(answered), 10)
        + share(sum(not o.advice.fitting for o in nothing), len(nothing), 13)
        + share(len(unwanted), len(answered), 10)
    )


def share(part: int, whole: int, width: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})".rjust(width + 8) if whole else "-".rjust(width + 8)


def print_miss(data: AdviceSet, o: Outcome) -> None:
    wrong_first = not o.labelled.none_fits and not o.first_fits()
    false_fit = o.labelled.none_fits and o.advice.fitting
    shown_wrong = [p for p in o.advice.fitting if data.truly_breaks(p, o.labelled.constraints)]
    shown_wrong += [p for p in o.advice.fitting if not data.truly_wanted(p, o.labelled)]
    if not (wrong_first or false_fit or shown_wrong):
        return
    shown = ", ".join(f"{p.id} {p.title}" for p in o.advice.fitting) or "(none)"
    expected = ", ".join(o.labelled.acceptable[:4]) or "(none)"
    print(f"  {o.labelled.id} [{o.labelled.language}] {o.labelled.text!r} -> terms {o.question.terms}")
    print(f"      {o.advice.why}: {shown}")
    print(f"      acceptable: {expected}")


# --- Calibration ------------------------------------------------------------------------------------


def calibrate(
    data: AdviceSet, embedder: SentenceTransformersEmbedder, asked: Sequence[tuple[Labelled, Question]]
) -> None:
    """For each question with product words and each product meeting its other constraints (by the
    labels): the product's cosine, whether it is of a kind asked for, and whether its name or its
    description carries every word; split by the tier the question's category calls for."""
    products = list(data.products)
    documents = embedder.embed_texts([product_document(p, COUNTRY).text for p in products])
    worded = [(lab, q) for lab, q in asked if q.terms and lab.wants]
    queries = embedder.embed_texts([q.search_text for _, q in worded])
    named_tier: list[tuple[float, bool]] = []
    meaning_tier: list[tuple[float, bool, bool]] = []
    named = {True: 0, False: 0}
    for (lab, q), vector in zip(worded, queries, strict=True):
        terms = frozenset(singular(t) for t in q.terms)
        found = {p.id: relevance(terms, p, None) for p in products}
        category = [p for p in products if not _breaks_category(data, p, lab)]
        tier_named = any(found[p.id].named_in_full for p in category)
        for product, cosine in zip(products, documents @ vector, strict=True):
            if data.truly_breaks(product, lab.constraints):
                continue
            wanted = data.truly_wanted(product, lab)
            if found[product.id].named_in_full:
                named[wanted] += 1
            elif tier_named:
                named_tier.append((float(cosine), wanted))
            else:
                meaning_tier.append((float(cosine), wanted, found[product.id].described == 1.0))
    print(
        f"\ncalibration: {len(worded)} questions with product words, products meeting their other constraints"
    )
    print(f"  named by every word: {named[True]} wanted, {named[False]} not")
    print("  beside products named by every word, by cosine (COSINE_SURE):")
    sweep(named_tier, np.arange(0.50, 0.80, 0.05))
    print("  where none is named so, by cosine alone (COSINE_ALONE):")
    sweep([(c, w) for c, w, _ in meaning_tier], np.arange(0.35, 0.70, 0.05))
    print("  where none is named so, the description naming every word (COSINE_WITH_DESCRIPTION):")
    sweep([(c, w) for c, w, d in meaning_tier if d], np.arange(0.20, 0.55, 0.05))
    print(
        f"  in use: sure {thresholds.COSINE_SURE}, alone {thresholds.COSINE_ALONE}, with the description"
        f" {thresholds.COSINE_WITH_DESCRIPTION}, near {thresholds.COSINE_NEAR}"
    )


def _breaks_category(data: AdviceSet, product: Product, labelled: Labelled) -> bool:
    only = Constraints(attributes=tuple(("category", v) for v in labelled.constraints.values("category")))
    return bool(data.truly_breaks(product, only))


def sweep(pairs: Sequence[tuple[float, bool]], thresholds_: np.ndarray) -> None:
    cos = np.array([c for c, _ in pairs] or [0.0])[: len(pairs)]
    wanted = np.array([w for _, w in pairs], dtype=bool)
    print(f"  {'threshold':>10}{'wanted kept':>16}{'unwanted kept':>18}")
    for threshold in thresholds_:
        kept = cos >= threshold
        print(
            f"  {threshold:>10.2f}{np.sum(kept & wanted):>9}/{np.sum(wanted):<6}"
            f"{np.sum(kept & ~wanted):>11}/{np.sum(~wanted):<6}"
        )


# --- Running it ---------------------------------------------------------------------------------------


def answer(service: SearchService, catalog: Sequence[Product], question: Question) -> Advice:
    found: list[ScoredResult] = []
    if question.search_text:
        found = service.by_text_scored(question.search_text, SearchScope(shop_id=SHOP_ID), SEARCH_LIMIT)
    return advise(question, catalog, found, limit=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true", help="print the cosine figures of the thresholds")
    parser.add_argument("--misses", action="store_true", help="list the questions answered wrongly")
    args = parser.parse_args()

    data = load()
    with tempfile.TemporaryDirectory() as cache:
        embedder = SentenceTransformersEmbedder(Settings(model_cache_dir=Path(cache)))
        started = time.perf_counter()
        service = build_service(embedder, data.products)
        print(f"catalog: {len(data.products)} products indexed in {time.perf_counter() - started:.1f} s")
        vocabulary = data.vocabulary()
        asked = [(lab, data.asked(lab, vocabulary)) for lab in data.questions]
        started = time.perf_counter()
        outcomes = [Outcome(lab, q, answer(service, data.products, q)) for lab, q in asked]
        elapsed = time.perf_counter() - started
        each = 1000 * elapsed / len(outcomes)
        print(f"questions: {len(outcomes)}, {each:.1f} ms each (parse, search, advise)\n")
        judge(data, outcomes, args.misses)
        if args.calibrate:
            calibrate(data, embedder, asked)


if __name__ == "__main__":
    sys.exit(main())
