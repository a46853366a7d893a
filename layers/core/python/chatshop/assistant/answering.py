"""The question worker's logic: a customer's question answered from the shop's FAQ or catalog.

First the shop's FAQ, where an entry is close enough to the question (the threshold measured on a
labelled set, see :mod:`chatshop.assistant.faq_match`); else the catalog: the question's
constraints (price, stock, colour, size, brand, category) read from its words, the products found
by the shop's search, and only those that fit named (:mod:`chatshop.assistant.advice`). A
follow-up ("in blue", "cheaper") refines the question before it. Products come back as they are
in the catalog now, so the reply states no price or stock level the catalog does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatshop.shops.domain import Product

from .advice import Advice, advise
from .constraints import Question, parse_question, refine
from .questions import MAX_RESULTS, Answer, AnswerKind, QuestionJob
from .views import ProductView
from .vocabulary import CatalogVocabulary

# As deep as the advice benchmark measured its figures with; each candidate is one read of the catalog.
SEARCH_DEPTH = 30


@dataclass(frozen=True)
class Answerer:
    faq_answer: Callable[[str, str], str | None]  # shop id, question -> the FAQ's answer to it, if any
    products: Callable[[str], Sequence[Product]]  # shop id -> its catalog
    search: Callable[[str, str, int], Sequence[Any]]  # shop id, words, limit -> candidates, best first

    def answer(self, job: QuestionJob) -> Answer:
        catalog = self.products(job.shop_id)
        vocabulary = CatalogVocabulary.from_products(catalog)
        question = self._follow_up(job, catalog, vocabulary)
        if question is None:
            answer = self.faq_answer(job.shop_id, job.text)
            if answer is not None:
                return self._answer(job, "faq", faq_answer=answer)
            question = parse_question(job.text, vocabulary, job.language)
        words = question.search_text
        candidates = self.search(job.shop_id, words, SEARCH_DEPTH) if words else []
        found = advise(question, catalog, candidates, limit=MAX_RESULTS)
        return self._from_advice(job, question, found)

    def _follow_up(
        self, job: QuestionJob, catalog: Sequence[Product], vocabulary: CatalogVocabulary
    ) -> Question | None:
        if job.previous_text:
            previous = parse_question(job.previous_text, vocabulary, job.language)
        elif job.previous is not None:
            previous = Question.from_dict(job.previous)
        else:
            return None
        by_id = {p.id: p for p in catalog}
        shown = [by_id[pid] for pid in job.shown if pid in by_id]
        return refine(previous, shown, job.text, vocabulary, job.language)

    def _from_advice(self, job: QuestionJob, question: Question, found: Advice) -> Answer:
        remembered = question.to_dict()
        if found.fitting:
            products = tuple(ProductView.of(p) for p in found.fitting[:MAX_RESULTS])
            return self._answer(job, "advice", products=products, question=remembered)
        if found.alternatives:
            alternatives = found.alternatives[:MAX_RESULTS]
            products = tuple(ProductView.of(a.product) for a in alternatives)
            broken = {a.product.id: a.breaks for a in alternatives}
            return self._answer(job, "no_fit", products=products, broken=broken, question=remembered)
        return self._answer(job, "no_match", question=remembered)

    def _answer(self, job: QuestionJob, kind: AnswerKind, **fields: Any) -> Answer:
        return Answer(
            kind=kind,
            shop_id=job.shop_id,
            phone_number_id=job.phone_number_id,
            customer=job.customer,
            message_id=job.message_id,
            language=job.language,
            **fields,
        )
