"""A shop's FAQ: the questions and answers a merchant keeps (shipping, returns, opening hours,
payment) for the assistant to answer customers with.

One document per shop, replaced whole: a merchant edits the list and sends it back. Each answer
goes out as one WhatsApp text, which bounds its length. Every replace is a conditional write on
the FAQ's version, which is also its ETag; a shop that never wrote one has an empty FAQ at
version 0, so a first write may be made conditional on there being none yet.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.platform.errors import PreconditionFailed, ValidationFailed

from .domain import Shop
from .faq_store import NO_VERSION, FaqStore, FaqTooLarge, StaleFaq, StoredFaq

MAX_ENTRIES = 100
MAX_QUESTION = 300
# One WhatsApp text each; WhatsApp's own limit is 4,096, and an answer is read on a phone.
MAX_ANSWER = 1000

# Stripped before they are checked: the pattern says that some character must be left.
Question = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION, pattern=r"\S")
]
Answer = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ANSWER, pattern=r"\S")
]


class FaqEntryInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: Question
    answer: Answer


class FaqReplace(BaseModel):
    """The whole FAQ, as the merchant wants it from now on; an empty list of entries empties it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entries: Annotated[list[FaqEntryInput], Field(max_length=MAX_ENTRIES)] = Field(
        description=(
            f"At most {MAX_ENTRIES}; no two questions the same, ignoring case and spacing "
            "(422 names the second one)."
        ),
    )


class FaqEntry(BaseModel):
    """An entry as stored: not validated again on the way out, so stored FAQs keep reading if the
    input rules ever tighten."""

    model_config = ConfigDict(frozen=True)

    question: str
    answer: str


class Faq(BaseModel):
    model_config = ConfigDict(frozen=True)

    shop_id: str
    entries: list[FaqEntry] = []
    # 0 while the shop has never written one.
    version: int = 0
    updated_at: datetime | None = None

    @property
    def etag(self) -> str:
        return faq_etag(self.shop_id, self.version)


def faq_etag(shop_id: str, version: int) -> str:
    # The shop's id in it: an ETag copied from another shop's FAQ never matches this one's.
    return f'"{shop_id}-faq-v{version}"'


def question_key(question: str) -> str:
    """What makes two questions the same one: case and runs of spacing do not."""
    return " ".join(question.split()).casefold()


def shop_faq(store: FaqStore, shop_id: str, *, consistent: bool = True) -> Faq:
    """The FAQ of a shop, empty (version 0) when it has none. For logic that already knows the shop
    is live and whose it is (the merchant routes check ownership first; the assistant knows the
    shop from its channel). ``consistent=False`` reads at half the cost and may miss a write of
    the last second, which a customer's question can afford and a merchant's ETag cannot."""
    stored = store.get(shop_id, consistent=consistent)
    return Faq(shop_id=shop_id) if stored is None else _faq(stored)


def replace_faq(store: FaqStore, shop: Shop, new: FaqReplace, if_match: str | None = None) -> Faq:
    """Store ``new`` as the shop's whole FAQ. With ``if_match``, only if it names the current
    version (412 otherwise); without it, the last writer wins, still in one atomic write."""
    require_distinct_questions(new)
    entries = [(entry.question, entry.answer) for entry in new.entries]
    expected = _expected_version(shop.id, if_match)
    try:
        return _faq(store.put(shop.id, entries, datetime.now(UTC), expected_version=expected))
    except StaleFaq:
        raise PreconditionFailed(
            "The FAQ changed since you read it; GET it again for the new ETag."
        ) from None
    except FaqTooLarge as exc:
        raise ValidationFailed(
            ["entries"], f"The FAQ is too large to store ({exc.size} bytes packed, at most {exc.limit})."
        ) from None


def _faq(stored: StoredFaq) -> Faq:
    return Faq(
        shop_id=stored.shop_id,
        entries=[FaqEntry(question=question, answer=answer) for question, answer in stored.entries],
        version=stored.version,
        updated_at=stored.updated_at,
    )


def require_distinct_questions(new: FaqReplace) -> None:
    first_seen: dict[str, int] = {}
    duplicates: list[tuple[int, int]] = []
    for index, entry in enumerate(new.entries):
        first = first_seen.setdefault(question_key(entry.question), index)
        if first != index:
            duplicates.append((index, first))
    if duplicates:
        raise ValidationFailed(
            [f"entries.{index}.question" for index, _ in duplicates],
            errors=[
                {
                    "field": f"entries.{index}.question",
                    "message": f"The same question as entries.{first}.question.",
                    "type": "duplicate_question",
                }
                for index, first in duplicates
            ],
        )


def _expected_version(shop_id: str, if_match: str | None) -> int | None:
    """The version ``if_match`` names, or None for no condition. A tag of another shop, or that
    is no ETag of an FAQ at all, names no version, so the write can only fail."""
    if if_match is None or not if_match.strip():
        return None
    tag = if_match.strip().removeprefix("W/")
    if tag == "*":
        # "Any current representation": a shop always has an FAQ, empty at first.
        return None
    prefix, suffix = f'"{shop_id}-faq-v', '"'
    number = tag.removeprefix(prefix).removesuffix(suffix)
    if tag.startswith(prefix) and tag.endswith(suffix) and number.isascii() and number.isdigit():
        return int(number)
    return NO_VERSION
