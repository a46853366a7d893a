"""A shop's FAQ: its rules, its ETags and conditional replaces, and how it is packed for storage."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chatshop.platform.errors import PreconditionFailed, ValidationFailed
from chatshop.shops import faq
from chatshop.shops.domain import Shop
from chatshop.shops.faq import MAX_ANSWER, MAX_ENTRIES, MAX_QUESTION, Faq, FaqEntry, FaqReplace
from chatshop.shops.faq_store import MAX_PACKED_BYTES, StaleFaq, StoredFaq, pack, unpack

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SHOP = Shop(
    id="a" * 32,
    merchant_id="b" * 32,
    name="Corner Shop",
    description="",
    country="US",
    currency="USD",
    status="active",
    timezone="UTC",
    created_at=NOW,
    updated_at=NOW,
)


class FakeFaqStore:
    """In memory, with the conditions of the real store: a version to match, 0 meaning none stored."""

    def __init__(self) -> None:
        self.stored: dict[str, StoredFaq] = {}

    def get(self, shop_id: str, *, consistent: bool = True) -> StoredFaq | None:
        return self.stored.get(shop_id)

    def put(
        self,
        shop_id: str,
        entries: Sequence[tuple[str, str]],
        now: datetime,
        *,
        expected_version: int | None,
    ) -> StoredFaq:
        current = self.stored.get(shop_id)
        version = current.version if current else 0
        if expected_version is not None and expected_version != version:
            raise StaleFaq(shop_id)
        self.stored[shop_id] = StoredFaq(shop_id, list(entries), version + 1, now)
        return self.stored[shop_id]


def replace(*pairs: tuple[str, str]) -> FaqReplace:
    return FaqReplace(entries=[{"question": q, "answer": a} for q, a in pairs])


def test_entries_are_trimmed_and_the_longest_allowed_are_accepted():
    longest = [
        {"question": f"{i:03d}" + "q" * (MAX_QUESTION - 3), "answer": "a" * MAX_ANSWER} for i in range(100)
    ]
    assert len(FaqReplace(entries=longest).entries) == MAX_ENTRIES
    trimmed = replace(("  Do you ship?\n", "\tYes, worldwide. "))
    assert trimmed.entries[0].question == "Do you ship?"
    assert trimmed.entries[0].answer == "Yes, worldwide."


@pytest.mark.parametrize(
    "entries, location",
    [
        ([{"question": f"Q{i}?", "answer": "A."} for i in range(MAX_ENTRIES + 1)], ("entries",)),
        ([{"question": "q" * (MAX_QUESTION + 1), "answer": "A."}], ("entries", 0, "question")),
        ([{"question": "Q?", "answer": "a" * (MAX_ANSWER + 1)}], ("entries", 0, "answer")),
        ([{"question": " \u00a0\n", "answer": "A."}], ("entries", 0, "question")),
        ([{"question": "Q?", "answer": ""}], ("entries", 0, "answer")),
        ([{"question": "Q?", "answer": "A.", "id": 1}], ("entries", 0, "id")),
    ],
)
def test_what_breaks_a_rule_is_refused_at_its_field(entries, location):
    with pytest.raises(ValidationError) as refused:
        FaqReplace(entries=entries)
    assert [error["loc"] for error in refused.value.errors()] == [location]


def test_questions_that_differ_only_in_case_or_spacing_are_the_same_question():
    assert faq.question_key("  Do YOU   ship\tabroad? ") == faq.question_key("do you ship abroad?")
    assert faq.question_key("Do you ship?") != faq.question_key("Do you ship abroad?")


def test_every_repeated_question_is_named_with_the_one_it_repeats():
    new = replace(
        ("Do you ship?", "Yes."), ("Returns?", "30 days."), ("DO YOU SHIP?", "No."), ("returns?", "-")
    )
    with pytest.raises(ValidationFailed) as refused:
        faq.replace_faq(FakeFaqStore(), SHOP, new)
    assert refused.value.fields == ["entries.2.question", "entries.3.question"]
    messages = [error["message"] for error in refused.value.details["errors"]]
    assert messages == [
        "The same question as entries.0.question.",
        "The same question as entries.1.question.",
    ]


def test_a_shop_without_an_faq_has_an_empty_one_at_version_0():
    assert faq.shop_faq(FakeFaqStore(), SHOP.id) == Faq(shop_id=SHOP.id, entries=[], version=0)


def test_a_replace_stores_the_entries_in_order_and_bumps_the_version():
    store = FakeFaqStore()
    first = faq.replace_faq(store, SHOP, replace(("Do you ship?", "Yes."), ("Returns?", "30 days.")))
    second = faq.replace_faq(store, SHOP, replace(("Hours?", "9 to 5.")))
    assert first.entries == [
        FaqEntry(question="Do you ship?", answer="Yes."),
        FaqEntry(question="Returns?", answer="30 days."),
    ]
    assert (first.version, second.version) == (1, 2)
    assert faq.shop_faq(store, SHOP.id) == second
    assert second.etag == f'"{SHOP.id}-faq-v2"'


def test_if_match_with_the_current_etag_weak_or_strong_or_star_is_honoured():
    store = FakeFaqStore()
    empty = faq.shop_faq(store, SHOP.id)
    v1 = faq.replace_faq(store, SHOP, replace(("A?", "a")), empty.etag)
    v2 = faq.replace_faq(store, SHOP, replace(("B?", "b")), f"W/{v1.etag}")
    v3 = faq.replace_faq(store, SHOP, replace(("C?", "c")), "*")
    assert [v1.version, v2.version, v3.version] == [1, 2, 3]


@pytest.mark.parametrize(
    "if_match",
    [
        f'"{SHOP.id}-faq-v0"',  # stale: it was version 0 before the first write
        f'"{SHOP.id}-faq-v9"',
        f'"{"c" * 32}-faq-v1"',  # another shop's FAQ at the same version
        f'"{SHOP.id}-faq-v١"',  # an Arabic-Indic one is a digit to str.isdigit, not a version
        '"faq-v1"',
        "garbage",
    ],
)
def test_an_if_match_other_than_the_current_etag_is_412_and_changes_nothing(if_match):
    store = FakeFaqStore()
    current = faq.replace_faq(store, SHOP, replace(("A?", "a")))
    with pytest.raises(PreconditionFailed):
        faq.replace_faq(store, SHOP, replace(("B?", "b")), if_match)
    assert faq.shop_faq(store, SHOP.id) == current


def test_packing_keeps_the_entries_exactly():
    entries = [
        ("¿Envían a México?", "Sí, en 5 días 🚚"),
        ("कब खुले हैं?", "सुबह 9 से शाम 6 तक"),
        ("Q", 'A\n"quoted"'),
    ]
    assert unpack(pack(entries)) == entries


def test_the_least_compressible_faq_the_rules_allow_packs_under_the_item_limit():
    # 100 entries at their longest, of random characters of the supplementary planes: four UTF-8
    # bytes each, 520 KB unpacked, and as little for zlib to find as text can give it
    rng = random.Random(3)

    def text(length: int) -> str:
        return "".join(chr(rng.randrange(0x10000, 0x110000)) for _ in range(length))

    entries = [(text(MAX_QUESTION), text(MAX_ANSWER)) for _ in range(MAX_ENTRIES)]
    assert sum(len(q.encode()) + len(a.encode()) for q, a in entries) > 409_600
    assert len(pack(entries)) < MAX_PACKED_BYTES
