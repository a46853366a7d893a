"""The question worker's logic over fakes: the FAQ first, then the catalog, follow-ups refined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chatshop.assistant.answering import Answerer
from chatshop.assistant.questions import QuestionJob
from chatshop.shops.domain import Product
from chatshop.shops.money import Money

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def product(pid: str, title: str, cents: int, category: str) -> Product:
    return Product(
        id=pid,
        shop_id="s1",
        retailer_id=pid.upper(),
        title=title,
        price=Money(amount=cents, currency="USD"),
        category=category,
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


CATALOG = [
    product("sock-blue", "Merino socks, blue, M", 1600, "Apparel > Socks"),
    product("sock-grey", "Merino socks, grey, L", 1800, "Apparel > Socks"),
    product("jacket-blue", "Rain jacket, blue, L", 11900, "Apparel > Jackets"),
    product("jacket-black", "Puffer jacket, black, M", 8900, "Apparel > Jackets"),
]


@dataclass(frozen=True)
class Hit:
    product_id: str
    cosine: float
    sku: bool = False
    lexical: bool = True


def words_search(shop_id: str, words: str, limit: int) -> list[Hit]:
    """A stand-in for the search: products whose title has one of the words, in catalog order."""
    wanted = set(words.lower().split())
    found = [p for p in CATALOG if wanted & set(p.title.lower().replace(",", "").split())]
    return [Hit(p.id, 0.7) for p in found][:limit]


FAQ = {"do you ship to canada?": "Yes, in 5 to 8 days."}


def answerer() -> Answerer:
    return Answerer(
        faq_answer=lambda shop_id, question: FAQ.get(question.strip().lower()),
        products=lambda shop_id: CATALOG,
        search=words_search,
    )


def job(text: str, n: int = 1, **extra) -> QuestionJob:
    return QuestionJob(
        shop_id="s1",
        phone_number_id="1",
        customer="155500",
        message_id=f"wamid.{n}",
        text=text,
        language="en",
        **extra,
    )


def ids(answer) -> list[str]:
    return [p.id for p in answer.products]


def test_an_faq_question_gets_the_merchants_answer():
    answer = answerer().answer(job("Do you ship to Canada?"))
    assert (answer.kind, answer.faq_answer) == ("faq", "Yes, in 5 to 8 days.")


def test_a_product_question_gets_what_fits_its_price():
    answer = answerer().answer(job("a jacket under 100 dollars"))
    assert answer.kind == "advice"
    assert ids(answer) == ["jacket-black"]
    assert answer.question is not None and answer.question["constraints"]["max_price"] is not None


def test_a_follow_up_refines_the_question_before_it():
    first = answerer().answer(job("do you have merino socks?"))
    # When the customer writes "in blue" after the answer
    answer = answerer().answer(job("in blue", 2, previous=first.question, shown=tuple(ids(first))))
    # Then only the blue socks: the socks asked for, in blue
    assert ids(answer) == ["sock-blue"]


def test_a_follow_up_sent_before_the_answer_refines_the_question_still_pending():
    answer = answerer().answer(job("in blue", 2, previous_text="do you have merino socks?"))
    assert ids(answer) == ["sock-blue"]


def test_nothing_that_fits_is_said_with_the_nearest_and_what_each_breaks():
    answer = answerer().answer(job("a blue jacket under 100 dollars"))
    assert answer.kind == "no_fit"
    assert answer.broken[answer.products[0].id]  # what the nearest does not meet
    assert all(p.id.startswith("jacket") for p in answer.products)


def test_a_question_the_catalog_cannot_answer_is_said_so():
    answer = answerer().answer(job("do you sell surfboards?"))
    assert (answer.kind, answer.products) == ("no_match", ())
