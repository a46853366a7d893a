"""The conversation as the inbound worker runs it, over in-memory fakes of its stores and queues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from chatshop.assistant import intents
from chatshop.assistant.dialogue import Assistant
from chatshop.assistant.questions import Answer, QuestionJob
from chatshop.assistant.state import ConversationState
from chatshop.assistant.state_store import StaleState
from chatshop.assistant.views import ProductView, category_key
from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.outbound import parse_outbound
from chatshop.messaging.records import OutboundRecord
from chatshop.shops.domain import Product, Shop
from chatshop.shops.money import Money

NUMBER = "1234567890"
CUSTOMER = "15550001111"
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


# --- Fakes ----------------------------------------------------------------------------------------


class FakeStates:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], ConversationState] = {}
        self.pointers: dict[str, tuple[str, str]] = {}

    def get(self, phone_number_id: str, customer: str) -> ConversationState | None:
        return self.items.get((phone_number_id, customer))

    def by_id(self, conversation_id: str) -> ConversationState | None:
        key = self.pointers.get(conversation_id)
        return self.items.get(key) if key else None

    def create_pointer(self, state: ConversationState) -> None:
        self.pointers[state.conversation_id] = (state.phone_number_id, state.customer)

    def save(self, state: ConversationState) -> ConversationState:
        key = (state.phone_number_id, state.customer)
        current = self.items.get(key)
        if (current.version if current else 0) != state.version:
            raise StaleState(state.conversation_id)
        saved = state.model_copy(update={"version": state.version + 1})
        self.items[key] = saved
        return saved


@dataclass
class FakeCatalogs:
    shop_: Shop
    catalog: list[Product]
    catalog_id_: str | None = None

    def shop(self, shop_id: str) -> Shop | None:
        return self.shop_ if shop_id == self.shop_.id else None

    def catalog_id(self, shop_id: str) -> str | None:
        return self.catalog_id_

    def products(self, shop_id: str) -> Sequence[Product]:
        return self.catalog

    def products_by_id(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Product]:
        return {p.id: p for p in self.catalog if p.id in product_ids}

    def image_link(self, product: Product) -> str | None:
        return f"https://media.example/{product.id}.jpg"


@dataclass
class FakeReplies:
    records: dict[str, OutboundRecord] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)

    def send(self, record: OutboundRecord) -> None:
        if record.id not in self.records:
            self.records[record.id] = record
            self.sent.append(record.id)

    def resend(self, reply_id: str) -> None:
        self.resent.append(reply_id)


@dataclass
class FakeQuestions:
    jobs: list[QuestionJob] = field(default_factory=list)

    def ask(self, job: QuestionJob) -> None:
        self.jobs.append(job)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def product(n: int, category: str, availability: str = "in stock", price: int = 1000) -> Product:
    return Product(
        id=f"p{n:031x}",
        shop_id="s1",
        retailer_id=f"SKU-{n}",
        title=f"Product {n}",
        price=Money(amount=price, currency="USD"),
        availability=availability,
        category=category,
        version=1,
        created_at=START,
        updated_at=START,
    )


SOCKS = [product(i, "Apparel > Socks") for i in range(1, 13)]
JACKETS = [product(20, "Apparel > Jackets"), product(21, "Apparel > Jackets", "out of stock")]


@pytest.fixture
def world():
    shop = Shop(
        id="s1",
        merchant_id="m1",
        name="Trail Threads",
        description="",
        country="US",
        currency="USD",
        status="active",
        timezone="America/New_York",
        created_at=START,
        updated_at=START,
    )
    clock = Clock()
    states, replies, questions = FakeStates(), FakeReplies(), FakeQuestions()
    catalogs = FakeCatalogs(shop, [*SOCKS, *JACKETS])
    assistant = Assistant(states, catalogs, replies, questions, clock=clock)
    return assistant, states, catalogs, replies, questions, clock


_count = 0


def says(
    assistant: Assistant, clock: Clock, text: str | None = None, tap: str | None = None, kind: str = "text"
) -> str | None:
    global _count
    _count += 1
    data: dict = {
        "id": f"wamid.{_count}",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "customer_name": "Ana",
        "timestamp": clock.now,
        "type": "interactive" if tap else kind,
        "text": text,
    }
    if tap:
        data["button"] = {"kind": "button_reply", "id": tap, "title": "tapped"}
    return assistant.on_message("s1", InboundMessage.model_validate(data)).reply_id


def message(replies: FakeReplies, reply_id: str | None):
    assert reply_id is not None and reply_id in replies.records
    return parse_outbound(replies.records[reply_id].message)


def state(states: FakeStates) -> ConversationState:
    found = states.get(NUMBER, CUSTOMER)
    assert found is not None
    return found


# --- Greeting and menu ------------------------------------------------------------------------------


def test_a_first_hello_gets_the_welcome_with_three_menu_buttons(world):
    assistant, states, _, replies, _, clock = world
    # When
    reply = message(replies, says(assistant, clock, "Hi!"))
    # Then
    assert reply.type == "buttons"
    assert "Trail Threads" in reply.body and "Ana" in reply.body
    assert [b.id for b in reply.buttons] == [intents.MENU_BROWSE, intents.MENU_ASK, intents.MENU_AGENT]
    assert state(states).conversation_id.startswith("cv_")


def test_a_repeated_greeting_does_not_send_the_menu_again_but_menu_does(world):
    assistant, _, _, replies, _, clock = world
    says(assistant, clock, "hello")
    clock.now += timedelta(minutes=5)
    # When
    again = message(replies, says(assistant, clock, "hi"))
    menu = message(replies, says(assistant, clock, "menu"))
    # Then
    assert again.type == "text"
    assert menu.type == "buttons"


def test_something_the_assistant_cannot_handle_gets_the_menu_buttons(world):
    assistant, _, _, replies, _, clock = world
    reply = message(replies, says(assistant, clock, kind="location"))
    assert reply.type == "buttons" and len(reply.buttons) == 3


# --- Browsing ---------------------------------------------------------------------------------------


def test_browsing_lists_categories_with_what_is_in_stock_and_a_category_lists_its_products(world):
    assistant, states, _, replies, _, clock = world
    # When
    categories = message(replies, says(assistant, clock, tap=intents.MENU_BROWSE))
    # Then: socks (12 in stock) before jackets (1 in stock), each row an id the assistant knows
    rows = categories.sections[0].rows
    assert [r.title for r in rows] == ["Socks", "Jackets"]
    assert rows[0].id == f"cat:{category_key('Apparel > Socks')}"
    assert "12" in rows[0].description and "1" in rows[1].description
    # When the customer taps jackets: only the jacket in stock
    jackets = message(replies, says(assistant, clock, tap=rows[1].id))
    assert [r.id for r in jackets.sections[0].rows] == [f"show:{JACKETS[0].id}"]
    assert "$10.00" in jackets.sections[0].rows[0].description


def test_more_pages_through_a_category_and_says_when_there_is_nothing_more(world):
    assistant, _, _, replies, _, clock = world
    socks = message(replies, says(assistant, clock, tap=f"cat:{category_key('Apparel > Socks')}"))
    first = [r.id for r in socks.sections[0].rows]
    assert len(first) == 10 and first[-1] == intents.MORE  # nine products and "more"
    # When
    second = message(replies, says(assistant, clock, "more"))
    third = message(replies, says(assistant, clock, "more"))
    # Then
    assert [r.id for r in second.sections[0].rows] == [
        f"show:{p.id}" for p in sorted(SOCKS, key=lambda p: p.title)[9:]
    ]
    assert third.type == "text"


def test_with_a_whatsapp_catalog_a_category_is_a_multi_product_message(world):
    assistant, _, catalogs, replies, _, clock = world
    catalogs.catalog_id_ = "998877"
    reply = message(replies, says(assistant, clock, tap=f"cat:{category_key('Apparel > Socks')}"))
    assert reply.type == "product_list"
    assert reply.catalog_id == "998877"
    assert len(reply.sections[0].product_retailer_ids) == 10


def test_the_second_one_shows_the_second_product_listed_as_a_card_with_its_picture(world):
    assistant, _, _, replies, _, clock = world
    says(assistant, clock, tap=f"cat:{category_key('Apparel > Socks')}")
    # When
    card = message(replies, says(assistant, clock, "the second one"))
    # Then
    second = sorted(SOCKS, key=lambda p: p.title)[1]
    assert card.type == "buttons"
    assert card.header_image == f"https://media.example/{second.id}.jpg"
    assert second.title in card.body and "$10.00" in card.body
    assert card.buttons[0].id == f"order:{second.id}"


# --- Questions --------------------------------------------------------------------------------------


def answer(job: QuestionJob, kind: str, products: Sequence[Product] = (), **extra) -> Answer:
    return Answer(
        kind=kind,
        shop_id=job.shop_id,
        phone_number_id=job.phone_number_id,
        customer=job.customer,
        message_id=job.message_id,
        language=job.language,
        products=tuple(ProductView.of(p) for p in products),
        **extra,
    )


def test_a_question_goes_to_the_question_worker_and_its_answer_becomes_the_reply(world):
    assistant, states, _, replies, questions, clock = world
    # When
    pending = says(assistant, clock, "do you have merino socks?")
    # Then: nothing said yet; the question is queued with the conversation's language
    assert pending not in replies.records
    (job,) = questions.jobs
    assert job.text == "do you have merino socks?" and job.language == "en"
    assert state(states).pending == job.message_id
    # When the answer comes back
    turn = assistant.on_answer(answer(job, "advice", SOCKS[:5]))
    # Then: three products named with their prices, each one tap away, the rest for "more"
    reply = message(replies, turn.reply_id)
    assert turn.reply_id == pending
    assert reply.body.count("$10.00") == 3
    assert len([line for line in reply.body.splitlines() if line[:2] in ("1.", "2.", "3.")]) == 3
    assert [r.id for r in reply.sections[0].rows][:3] == [f"show:{p.id}" for p in SOCKS[:3]]
    assert state(states).pending is None and state(states).shown == tuple(p.id for p in SOCKS[:3])


def test_an_answer_applied_twice_replies_once(world):
    assistant, _, _, replies, questions, clock = world
    says(assistant, clock, "socks?")
    found = answer(questions.jobs[0], "advice", SOCKS[:1])
    assistant.on_answer(found)
    # When
    again = assistant.on_answer(found)
    # Then
    assert again.outcome == "duplicate"
    assert len([r for r in replies.sent if r.startswith("answer-")]) == 1


def test_two_unhelpful_answers_in_a_row_bring_a_person_in(world):
    assistant, states, _, replies, questions, clock = world
    says(assistant, clock, "unicorn saddle?")
    first = message(replies, assistant.on_answer(answer(questions.jobs[-1], "no_match")).reply_id)
    says(assistant, clock, "dragon harness?")
    # When
    second = message(replies, assistant.on_answer(answer(questions.jobs[-1], "no_match")).reply_id)
    # Then
    assert first.type == "buttons"
    assert second.type == "text" and "Trail Threads" in second.body
    assert state(states).holder == "waiting"


def test_a_faq_answer_is_the_merchants_own_words(world):
    assistant, _, _, replies, questions, clock = world
    says(assistant, clock, "hi")
    says(assistant, clock, "do you ship to Canada?")
    turn = assistant.on_answer(answer(questions.jobs[0], "faq", faq_answer="Yes, in 5 to 8 days."))
    assert message(replies, turn.reply_id).body == "Yes, in 5 to 8 days."


def test_a_first_message_that_is_a_question_is_answered_after_the_shops_welcome(world):
    assistant, states, _, replies, questions, clock = world
    says(assistant, clock, "do you ship to Canada?")
    turn = assistant.on_answer(answer(questions.jobs[0], "faq", faq_answer="Yes, in 5 to 8 days."))
    assert message(replies, turn.reply_id).body == (
        "Welcome to Trail Threads! How can we help you today?\n\nYes, in 5 to 8 days."
    )
    # Welcomed once: a greeting now gets the short answer
    assert message(replies, says(assistant, clock, "hello")).type == "text"


# --- A person ---------------------------------------------------------------------------------------


def test_asking_for_a_person_is_answered_once_then_the_assistant_stays_silent(world):
    assistant, states, _, replies, questions, clock = world
    handoff = message(replies, says(assistant, clock, "I want to talk to a person"))
    # When
    silent = says(assistant, clock, "hello? anyone?")
    # Then
    assert handoff.type == "text"
    assert state(states).holder == "waiting"
    assert silent is None and not questions.jobs
    # When the customer asks for the menu, the assistant is back
    assert message(replies, says(assistant, clock, "menu")).type == "buttons"
    assert state(states).holder == "assistant"


def test_an_agents_reply_holds_the_conversation_until_released_or_quiet(world):
    assistant, states, _, replies, questions, clock = world
    says(assistant, clock, tap=intents.MENU_AGENT)
    conversation = state(states)
    # When an agent answers
    from chatshop.messaging.outbound import Text

    turn = assistant.on_agent_message(conversation, "agent-1", Text(body="Hi Ana, how can I help?"))
    # Then
    assert message(replies, turn.reply_id).body == "Hi Ana, how can I help?"
    assert state(states).holder == "agent"
    assert says(assistant, clock, "do you have socks?") is None
    # When the agent has been quiet for longer than the quiet time
    clock.now += timedelta(minutes=31)
    says(assistant, clock, "socks?")
    # Then the assistant answers again
    assert state(states).holder == "assistant" and questions.jobs
    # And a release hands it back at once
    assistant.on_agent_message(state(states), "agent-2", Text(body="Back again"))
    assistant.on_release(state(states), "release-1")
    assert state(states).holder == "assistant"


# --- Idempotency and languages ----------------------------------------------------------------------


def test_a_message_handled_again_sends_nothing_new(world):
    assistant, _, _, replies, _, clock = world
    data = {
        "id": "wamid.same",
        "phone_number_id": NUMBER,
        "customer": CUSTOMER,
        "timestamp": clock.now,
        "type": "text",
        "text": "hi",
    }
    first = assistant.on_message("s1", InboundMessage.model_validate(data))
    # When
    again = assistant.on_message("s1", InboundMessage.model_validate(data))
    # Then
    assert again.outcome == "duplicate" and again.reply_id == first.reply_id
    assert replies.sent == [first.reply_id] and replies.resent == [first.reply_id]


@pytest.mark.parametrize(
    ("greeting", "button"),
    [("hola", "Ver catálogo"), ("olá", "Ver catálogo"), ("नमस्ते", None)],
)
def test_the_assistant_follows_the_language_the_customer_writes_in(world, greeting, button):
    assistant, states, _, replies, _, clock = world
    reply = message(replies, says(assistant, clock, greeting))
    english = "Browse catalog"
    assert reply.buttons[0].title != english
    if button:
        assert reply.buttons[0].title == button
    assert state(states).language in ("es", "pt_BR", "hi")


def test_a_follow_up_sent_before_the_answer_carries_the_question_it_follows(world):
    assistant, _, _, _, questions, clock = world
    says(assistant, clock, "do you have merino socks?")
    # When the customer adds "in blue" before the answer came
    says(assistant, clock, "in blue")
    # Then the second job knows the first question, so it can refine it
    first, second = questions.jobs
    assert second.previous_text == first.text and second.previous is None
