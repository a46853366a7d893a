"""The labelled set of customer messages to shop FAQs, and the figures a matcher gets on it.

Each YAML file here is one shop's FAQ and messages its customers might send, each labelled with
the entry that answers it or null where none does. Product questions are labelled null: the
catalog answers those, and an FAQ answer in their place is a wrong answer. Read by the FAQ
matcher's test and by ``bench/faq_threshold.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from chatshop.assistant.faq_match import FaqMatcher
from chatshop.shops.faq import Faq, FaqEntry

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Case:
    shop: str
    text: str
    expect: str | None  # the id of the entry that answers it


@dataclass(frozen=True)
class LabelledFaq:
    shop: str
    faq: Faq
    ids: tuple[str, ...]  # entry ids, in the FAQ's order
    cases: tuple[Case, ...]


def load() -> list[LabelledFaq]:
    labelled = []
    for path in sorted(HERE.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        ids = tuple(document["faq"])
        entries = [FaqEntry(**document["faq"][entry_id]) for entry_id in ids]
        cases = tuple(Case(path.stem, case["text"], case["expect"]) for case in document["questions"])
        unknown = {case.expect for case in cases} - set(ids) - {None}
        if unknown:
            raise ValueError(f"{path.name}: labels name no entry: {sorted(unknown)}")
        # One shop id and version per file, as the question worker would pass them.
        labelled.append(
            LabelledFaq(path.stem, Faq(shop_id=path.stem, entries=entries, version=1), ids, cases)
        )
    return labelled


@dataclass(frozen=True)
class Scored:
    case: Case
    best: str  # the id of the most similar entry
    similarity: float


def score(matcher: FaqMatcher, labelled: list[LabelledFaq]) -> list[Scored]:
    """Every message's most similar entry, whatever the threshold (for sweeps)."""
    scored = []
    for shop in labelled:
        for case in shop.cases:
            similarities = matcher.similarities(shop.faq, case.text)
            index = int(similarities.argmax())
            scored.append(Scored(case, shop.ids[index], float(similarities[index])))
    return scored


def answers(matcher: FaqMatcher, labelled: list[LabelledFaq]) -> list[tuple[Case, str | None]]:
    """What the matcher answers each message with at its threshold: an entry id, or None."""
    answered = []
    for shop in labelled:
        for case in shop.cases:
            match = matcher.best(shop.faq, case.text)
            answered.append((case, None if match is None else shop.ids[shop.faq.entries.index(match.entry)]))
    return answered


@dataclass(frozen=True)
class Figures:
    answerable: int  # messages an entry answers
    unanswerable: int  # messages no entry answers
    correct: int  # answerable messages answered with their entry
    wrong_entry: int  # answerable messages answered with another entry
    none_answered: int  # unanswerable messages answered with some entry

    @property
    def recall(self) -> float:
        return self.correct / self.answerable

    @property
    def precision(self) -> float:
        """Of the messages answered from the FAQ, the share answered with the right entry."""
        answered = self.correct + self.wrong_entry + self.none_answered
        return self.correct / answered if answered else 1.0

    @property
    def none_precision(self) -> float:
        """Of the messages no entry answers, the share left to the catalog."""
        return 1 - self.none_answered / self.unanswerable


def figures(answered: list[tuple[Case, str | None]]) -> Figures:
    answerable = [(case, got) for case, got in answered if case.expect is not None]
    unanswerable = [(case, got) for case, got in answered if case.expect is None]
    return Figures(
        answerable=len(answerable),
        unanswerable=len(unanswerable),
        correct=sum(got == case.expect for case, got in answerable),
        wrong_entry=sum(got is not None and got != case.expect for case, got in answerable),
        none_answered=sum(got is not None for _, got in unanswerable),
    )


def at_threshold(scored: list[Scored], threshold: float) -> list[tuple[Case, str | None]]:
    return [(row.case, row.best if row.similarity >= threshold else None) for row in scored]
