"""The conversation, as the inbound worker runs it: one customer message (or one answer from the
question worker, or one act of an agent) in, at most one reply out, the state moved on.

Each step is idempotent on the message it handles: the reply's id is made from the message's id
(stored once, sent once), the state remembers the messages it handled, and the state is written
conditionally on the version read. A message handled again only queues again what may not have
been sent. Replies are composed by :mod:`chatshop.assistant.replies` in the conversation's
language: the one the customer writes in when it is clear, else the one they wrote in before, else
the shop's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from pydantic import ValidationError

from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.outbound import (
    MAX_FOOTER_TEXT,
    MAX_INTERACTIVE_BODY,
    OutboundMessage,
    OutboundValidationError,
    ReplyButtons,
    Text,
)
from chatshop.messaging.payment_status import PaymentStatus
from chatshop.messaging.records import OutboundRecord
from chatshop.platform.iso import CURRENCY_EXPONENTS
from chatshop.recruiting.domain import Consent, ConsentStatus, ConsentVia, Link
from chatshop.recruiting.sources import Source, from_referral, link_code_in
from chatshop.shops.catalog import product_id_for
from chatshop.shops.domain import Product, Shop

from . import ad_consent, data_requests, offers, phrases, replies, till
from .i18n import Translator, default_language, supported, translator
from .intents import Intent, from_tap, from_text
from .language import detect
from .questions import Answer, QuestionJob
from .state import (
    FAILURES_BEFORE_HANDOFF,
    MENU_QUIET,
    ConversationState,
    Holder,
    new_conversation_id,
)
from .views import ORDERABLE, ProductView, category_name, in_category, outline

# The ask prompt's example budget, in the shop currency's major units.
_EXAMPLE_BUDGET = 100
DEFAULT_AGENT_QUIET = timedelta(minutes=30)
# The handled id, and the reply's, of a cart's one reminder.
REMINDER_PREFIX = "cart-reminder-"


# --- What the dialogue needs, as the inbound worker wires it --------------------------------------


class States(Protocol):
    def get(self, phone_number_id: str, customer: str) -> ConversationState | None: ...

    def create_pointer(self, state: ConversationState) -> None: ...

    def save(self, state: ConversationState) -> ConversationState: ...


class Catalogs(Protocol):
    """The shops context as the assistant reads it (``chatshop.assistant.directory``)."""

    def shop(self, shop_id: str) -> Shop | None: ...

    def catalog_id(self, shop_id: str) -> str | None: ...

    def products(self, shop_id: str) -> Sequence[Product]: ...

    def products_by_id(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, Product]: ...

    def image_link(self, product: Product) -> str | None: ...


class Replies(Protocol):
    def send(self, record: OutboundRecord) -> None:
        """Store the reply once and queue it; a reply stored before is queued again only if unsent."""

    def resend(self, reply_id: str) -> None:
        """Queue a stored reply again if it was never sent (a handler cut short)."""


class Questions(Protocol):
    def ask(self, job: QuestionJob) -> None: ...


class Recruits(Protocol):
    """Recruiting as the conversation uses it (``chatshop.recruiting.desk.RecruitingDesk``)."""

    def link(self, shop_id: str, code: str) -> Link | None: ...

    def count_conversation(
        self, shop: Shop, conversation_key: str, source: Source, started_at: datetime
    ) -> None: ...

    def consent(self, shop_id: str, phone_number_id: str, customer: str) -> Consent | None: ...

    def change_consent(
        self,
        shop_id: str,
        phone_number_id: str,
        customer: str,
        status: ConsentStatus,
        via: ConsentVia,
        at: datetime,
        words: str | None = None,
    ) -> bool:
        """Set the customer's consent to offers; False when it was that already."""


class AdConsents(Protocol):
    """Consent to personalised ads from the chat (``chatshop.privacy.chat.ChatConsents``)."""

    def record(
        self,
        wa_id: str,
        state: Literal["given", "withdrawn"],
        wording: str,
        at: datetime,
        language: str,
        country: str,
    ) -> None: ...


class DataRequests(Protocol):
    """A customer's export or erasure request from the chat (``chatshop.privacy.chat.ChatDataRequests``)."""

    def file(
        self, shop_id: str, wa_id: str, kind: Literal["export", "erasure"], at: datetime, language: str
    ) -> None: ...


@dataclass(frozen=True)
class Turn:
    """What handling one message did: the reply's id, if it replied, and how."""

    outcome: str
    reply_id: str | None = None


@dataclass(frozen=True)
class Assistant:
    states: States
    catalogs: Catalogs
    replies: Replies
    questions: Questions
    agent_quiet: timedelta = DEFAULT_AGENT_QUIET
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # The orders context, where the chat takes orders; without it an order goes to a person.
    orders: till.Orders | None = None
    # Links, offers and the acquisition counters; None where recruiting is not wired (sources of
    # ads are still recorded on the conversation).
    recruits: Recruits | None = None
    # Consent to personalised ads, where Shop Ads is deployed; None: the words are not commands.
    ad_consents: AdConsents | None = None
    # A customer's own export and erasure requests; None: the words are not commands.
    data_requests: DataRequests | None = None

    # --- a customer's message ---------------------------------------------------------------------

    def on_message(
        self, shop_id: str, message: InboundMessage, search_photo: Callable[[str], str] | None = None
    ) -> Turn:
        """``search_photo`` hands a photo to the photo search (which answers it) and says the id of
        its answer; None where photo search is not deployed."""
        shop = self.catalogs.shop(shop_id)
        state = self._state(shop_id, message)
        if state.handled_before(message.id):
            return self._again(state, message.id)
        now = self.clock()
        intent = _intent(message)
        language = detect(message.text) if message.text else None
        state = state.with_handled(
            message.id,
            last_message_at=max(message.timestamp, state.last_message_at or message.timestamp),
            customer_name=message.customer_name or state.customer_name,
            language=language or state.language,
        )
        arrived: Source | None = None
        if state.version == 0 and state.first_contact_at is None:
            state, arrived = self._first_contact(shop, state, message)
        offer = offers.intent_of(message)
        if offer is not None and offer.kind == "stop":
            # At once, whoever holds the conversation.
            return self._stop_offers(shop, state, message.id, "menu" if message.button else "keyword", now)
        state = self._quiet_agent_returns(state, now)
        if state.holder != "assistant":
            if intent.kind != "menu":
                self.states.save(state)  # kept for the agent; the assistant stays out of it
                return Turn("held")
            state = _held_by(state, "assistant", now)
        if shop is None or shop.status != "active":
            self.states.save(state)
            return Turn("shop-closed")
        # A customer still writing has not left their cart: its reminder moves on.
        rearmed = till.carts.rearmed(state.cart, state.last_message_at or now, till.reminder_after(shop))
        state = state.model_copy(update={"cart": rearmed})
        if message.type == "image" and search_photo is not None:
            self.states.save(state.model_copy(update={"failures": 0}))
            return Turn("photo", search_photo(self._translator(shop, state).language))
        if offer is not None and self.recruits is not None:
            return self._offers(shop, state, message.id, offer, now)
        ads = ad_consent.intent_of(message) if self.ad_consents is not None else None
        if ads is not None:
            return self._ad_consent(shop, state, message.id, ads, now)
        data = data_requests.intent_of(message) if self.data_requests is not None else None
        if data is not None:
            return self._data_request(shop, state, message.id, data, now)
        if arrived is not None and intent.kind in ("greeting", "menu", "question", "unsupported"):
            welcomed = self._arrival_welcome(shop, state, message.id, arrived, now)
            if welcomed is not None:
                return welcomed
        return self._act(shop, state, message, intent, now)

    def _act(
        self, shop: Shop, state: ConversationState, message: InboundMessage, intent: Intent, now: datetime
    ) -> Turn:
        t = self._translator(shop, state)
        reply_id = f"reply-{message.id}"
        match intent.kind:
            case "greeting" if state.menu_sent_at is not None and now - state.menu_sent_at < MENU_QUIET:
                return self._reply(state, message.id, reply_id, replies.welcome_again(t), "welcome-again")
            case "greeting" | "menu":
                reply = self._with_offers_footer(t, replies.welcome(t, shop.name, state.customer_name))
                return self._reply(
                    state.model_copy(update={"menu_sent_at": now}), message.id, reply_id, reply, "menu"
                )
            case "browse":
                return self._categories(shop, state, message.id, reply_id, t, 0)
            case "categories_page":
                page = int(intent.value) if intent.value and intent.value.isdigit() else 0
                return self._categories(shop, state, message.id, reply_id, t, page)
            case "category":
                return self._category(shop, state, message.id, reply_id, t, intent.value or "")
            case "more":
                return self._more(shop, state, message.id, reply_id, t)
            case "show":
                return self._card(shop, state, message.id, reply_id, t, intent.value or "")
            case "ordinal" if not state.shown:
                # "2" with nothing shown is a question like any other ("size 2").
                return self._question(shop, state, message, t)
            case "ordinal":
                return self._ordinal(shop, state, message.id, reply_id, t, int(intent.value or "0"))
            case "order":
                return self._order(shop, state, message, reply_id, t, intent.value or "", now)
            case "add" | "cart" | "cart_edit" | "cart_empty" | "remove" | "checkout" | "orders" | "cancel":
                return self._till(shop, state, message, reply_id, t, intent, now)
            case "wa_order":
                return self._wa_order(shop, state, message, reply_id, t, now)
            case "agent":
                reply = replies.text(t, phrases.HANDOFF, shop=shop.name)
                return self._reply(_held_by(state, "waiting", now), message.id, reply_id, reply, "handoff")
            case "ask":
                example = _EXAMPLE_BUDGET * 10 ** _exponent(shop.currency)
                return self._reply(
                    state, message.id, reply_id, replies.ask_prompt(t, shop.currency, example), "ask"
                )
            case "question":
                return self._question(shop, state, message, t)
        return self._failed(
            shop, state, message.id, reply_id, t, replies.not_understood(t), "not-understood", now
        )

    # --- browsing ---------------------------------------------------------------------------------

    def _categories(
        self, shop: Shop, state: ConversationState, message_id: str, reply_id: str, t: Translator, page: int
    ) -> Turn:
        found = outline(self.catalogs.products(shop.id))
        return self._reply(
            state.model_copy(update={"failures": 0}),
            message_id,
            reply_id,
            replies.categories(t, found, page),
            "categories",
        )

    def _category(
        self, shop: Shop, state: ConversationState, message_id: str, reply_id: str, t: Translator, key: str
    ) -> Turn:
        products = in_category(self.catalogs.products(shop.id), key)
        if not products:
            reply = replies.text(t, phrases.CATEGORY_EMPTY, category=t.text(phrases.OTHER_CATEGORY))
            return self._reply(state, message_id, reply_id, reply, "category-empty")
        name = category_name(products[0].category) or t.text(phrases.OTHER_CATEGORY)
        views = [ProductView.of(p) for p in products]
        page = views[: self._page_size(shop.id)]
        body = t.text(phrases.CATEGORY_BODY, category=name)
        catalog_id = self.catalogs.catalog_id(shop.id)
        reply = replies.product_page(t, body, name, page, len(views) > len(page), catalog_id)
        state = state.model_copy(
            update={
                "results": tuple(v.id for v in views),
                "offset": len(page),
                "shown": tuple(v.id for v in page),
                "category": name,
                "failures": 0,
            }
        )
        return self._reply(state, message_id, reply_id, reply, "category")

    def _more(
        self, shop: Shop, state: ConversationState, message_id: str, reply_id: str, t: Translator
    ) -> Turn:
        rest = state.results[state.offset :]
        if not rest:
            return self._reply(
                state, message_id, reply_id, replies.text(t, phrases.NOTHING_MORE), "nothing-more"
            )
        wanted = rest[: self._page_size(shop.id)]
        found = self.catalogs.products_by_id(shop.id, wanted)
        # Read again: a product sold out or deleted since the list was made is left out.
        page = [
            ProductView.of(found[pid])
            for pid in wanted
            if pid in found and found[pid].availability in ORDERABLE
        ]
        offset = state.offset + len(wanted)
        state = state.model_copy(update={"offset": offset, "shown": tuple(v.id for v in page)})
        if not page:
            return self._reply(
                state, message_id, reply_id, replies.text(t, phrases.NOTHING_MORE), "nothing-more"
            )
        header = state.category
        body = t.text(phrases.CATEGORY_BODY, category=header) if header else t.text(phrases.ADVICE_INTRO)
        reply = replies.product_page(
            t, body, header, page, offset < len(state.results), self.catalogs.catalog_id(shop.id)
        )
        return self._reply(state, message_id, reply_id, reply, "more")

    def _card(
        self,
        shop: Shop,
        state: ConversationState,
        message_id: str,
        reply_id: str,
        t: Translator,
        product_id: str,
    ) -> Turn:
        product = self.catalogs.products_by_id(shop.id, [product_id]).get(product_id)
        if product is None:
            return self._reply(
                state, message_id, reply_id, replies.text(t, phrases.PRODUCT_GONE), "product-gone"
            )
        view = ProductView.of(product)
        reply = replies.product_card(
            t, view, self.catalogs.image_link(product), self.catalogs.catalog_id(shop.id)
        )
        state = state.model_copy(update={"shown": (product.id,), "failures": 0})
        return self._reply(state, message_id, reply_id, reply, "product")

    def _ordinal(
        self, shop: Shop, state: ConversationState, message_id: str, reply_id: str, t: Translator, n: int
    ) -> Turn:
        shown = state.shown
        index = n - 1 if n > 0 else len(shown) + n
        if not 0 <= index < len(shown):
            return self._reply(state, message_id, reply_id, replies.text(t, phrases.WHICH_ONE), "which-one")
        return self._card(shop, state, message_id, reply_id, t, shown[index])

    def _order(
        self,
        shop: Shop,
        state: ConversationState,
        message: InboundMessage,
        reply_id: str,
        t: Translator,
        product_id: str,
        now: datetime,
    ) -> Turn:
        """ "Order this" on a product card: one of it, ordered now (keyed by the tap's message)."""
        product = self.catalogs.products_by_id(shop.id, [product_id]).get(product_id)
        if product is None:
            return self._reply(
                state, message.id, reply_id, replies.text(t, phrases.PRODUCT_GONE), "product-gone"
            )
        if self.orders is None:
            # Where the chat takes no orders, a person takes it from here.
            reply = replies.text(t, phrases.ORDER_HANDOFF, shop=shop.name, title=product.title)
            return self._reply(_held_by(state, "waiting", now), message.id, reply_id, reply, "order-handoff")
        step = till.order_message(
            self.orders, self.catalogs, shop, state, t, message.id, [(product.retailer_id, 1)], now
        )
        return self._reply(step.state, message.id, reply_id, step.reply, step.outcome)

    # --- the till ---------------------------------------------------------------------------------

    def _till(
        self,
        shop: Shop,
        state: ConversationState,
        message: InboundMessage,
        reply_id: str,
        t: Translator,
        intent: Intent,
        now: datetime,
    ) -> Turn:
        orders = self.orders
        if orders is None and intent.kind in ("checkout", "orders", "cancel"):
            reply = replies.text(t, phrases.HANDOFF, shop=shop.name)
            return self._reply(_held_by(state, "waiting", now), message.id, reply_id, reply, "handoff")
        match intent.kind:
            case "add":
                step = till.add(self.catalogs, shop, state, t, intent, now)
            case "cart":
                step = till.show(self.catalogs, shop, state, t)
            case "cart_edit":
                step = till.edit(self.catalogs, shop, state, t)
            case "cart_empty":
                step = till.empty(state, t)
            case "remove":
                step = till.remove(self.catalogs, shop, state, t, intent, now)
            case "checkout":
                assert orders is not None
                step = till.checkout(orders, self.catalogs, shop, state, t, message.id, now)
            case "orders":
                assert orders is not None
                step = till.my_orders(orders, shop, state, t)
            case _:
                assert orders is not None
                step = till.cancel(orders, shop, state, t, intent, now)
        return self._reply(step.state, message.id, reply_id, step.reply, step.outcome)

    def _wa_order(
        self,
        shop: Shop,
        state: ConversationState,
        message: InboundMessage,
        reply_id: str,
        t: Translator,
        now: datetime,
    ) -> Turn:
        """WhatsApp's cart, sent: ordered as sent, keyed by the order message's WhatsApp id."""
        if self.orders is None or message.order is None or not message.order.items:
            reply = replies.text(t, phrases.HANDOFF, shop=shop.name)
            return self._reply(_held_by(state, "waiting", now), message.id, reply_id, reply, "handoff")
        items = [(item.product_retailer_id, item.quantity) for item in message.order.items]
        step = till.order_message(self.orders, self.catalogs, shop, state, t, message.id, items, now)
        return self._reply(step.state, message.id, reply_id, step.reply, step.outcome)

    def on_payment(self, shop_id: str, payment: PaymentStatus) -> Turn:
        """WhatsApp's payment status of a bill (order_details) the chat sent: a captured payment
        marks the order paid, once (the orders context tells the customer); others change nothing."""
        shop = self.catalogs.shop(shop_id)
        if shop is None or self.orders is None:
            return Turn("payment-ignored")
        if payment.status != "captured":
            return Turn(f"payment-{payment.status}")
        transaction = payment.transaction_id or payment.message_id or payment.reference_id
        paid = self.orders.paid_in_chat(shop, payment.reference_id, transaction, self.clock())
        return Turn("payment-captured" if paid is not None else "payment-unknown-order")

    def on_cart_reminder(self, phone_number_id: str, customer: str, cart_id: str) -> Turn:
        """The reminder function found this cart due: reminded once, if the chat is still open."""
        state = self.states.get(phone_number_id, customer)
        if state is None:
            return Turn("no-conversation")
        handled_id = f"{REMINDER_PREFIX}{cart_id}"
        if state.handled_before(handled_id):
            return self._again(state, handled_id)
        shop = self.catalogs.shop(state.shop_id)
        if shop is None:
            return Turn("shop-closed")
        now = self.clock()
        found = till.reminder(self.catalogs, shop, state, self._translator(shop, state), cart_id, now)
        if found is None:
            return Turn("reminder-not-due")
        if isinstance(found, ConversationState):
            self.states.save(found.with_handled(handled_id))
            return Turn("reminder-skipped")
        state = found.state.with_handled(handled_id)
        return self._reply(state, handled_id, handled_id, found.reply, found.outcome)

    # --- questions --------------------------------------------------------------------------------

    def _question(self, shop: Shop, state: ConversationState, message: InboundMessage, t: Translator) -> Turn:
        job = QuestionJob(
            shop_id=shop.id,
            phone_number_id=state.phone_number_id,
            customer=state.customer,
            message_id=message.id,
            text=message.text or "",
            language=t.language,
            previous=state.question,
            shown=state.shown,
            previous_text=state.pending_text if state.pending else None,
        )
        self.states.save(state.model_copy(update={"pending": message.id, "pending_text": message.text}))
        self.questions.ask(job)
        return Turn("question", job.answer_id)

    def on_answer(self, answer: Answer) -> Turn:
        """The question worker's finding, turned into the reply in the conversation's order."""
        state = self.states.get(answer.phone_number_id, answer.customer)
        if state is None:
            return Turn("no-conversation")
        if state.handled_before(answer.reply_id):
            return self._again(state, answer.reply_id)
        now = self.clock()
        if state.pending == answer.message_id:
            state = state.model_copy(update={"pending": None, "pending_text": None})
        state = state.with_handled(answer.reply_id)
        shop = self.catalogs.shop(answer.shop_id)
        if state.holder != "assistant" or shop is None:
            # A person took over while the question was searched: the assistant keeps quiet.
            self.states.save(state)
            return Turn("held")
        t = translator(answer.language, shop.country)
        catalog_id = self.catalogs.catalog_id(shop.id)
        ids = tuple(p.id for p in answer.products)
        if answer.kind == "faq" and answer.faq_answer:
            return self._reply(
                state.model_copy(update={"failures": 0}),
                answer.reply_id,
                answer.reply_id,
                Text(body=answer.faq_answer),
                "faq",
            )
        if answer.kind == "advice":
            shown = ids[: replies.ADVICE_SHOWN]
            state = state.model_copy(
                update={
                    "results": ids,
                    "offset": len(shown),
                    "shown": shown,
                    "question": answer.question,
                    "category": None,
                    "failures": 0,
                }
            )
            reply = replies.advice(t, answer.products, len(ids) > len(shown), catalog_id)
            return self._reply(state, answer.reply_id, answer.reply_id, reply, "advice")
        if answer.kind == "no_fit" and answer.products:
            shown = ids[: replies.ADVICE_SHOWN]
            state = state.model_copy(
                update={
                    "results": (),
                    "offset": 0,
                    "shown": shown,
                    "question": answer.question,
                    "category": None,
                }
            )
            reply = replies.no_fit(t, answer.products, answer.broken, catalog_id)
            return self._failed(shop, state, answer.reply_id, answer.reply_id, t, reply, "no-fit", now)
        state = state.model_copy(update={"question": answer.question})
        return self._failed(
            shop, state, answer.reply_id, answer.reply_id, t, replies.no_match(t), "no-match", now
        )

    # --- recruiting: where the customer came from, and offers ---------------------------------------

    def _first_contact(
        self, shop: Shop | None, state: ConversationState, message: InboundMessage
    ) -> tuple[ConversationState, Source | None]:
        """Record where a new conversation came from (an ad's referral, a link's code, or nothing)
        and when, and count it; the source when it is not organic."""
        source = Source.organic()
        if message.referral is not None:
            products = self.catalogs.products(state.shop_id) if shop is not None else ()
            source = from_referral(message.referral, products)
        elif self.recruits is not None and (code := link_code_in(message.text)) is not None:
            link = self.recruits.link(state.shop_id, code)
            if link is not None:
                source = Source(kind="link", id=link.id, label=link.label, retailer_id=link.retailer_id)
        state = state.model_copy(update={"source": source.as_dict(), "first_contact_at": message.timestamp})
        if self.recruits is not None and shop is not None:
            # Keyed by the conversation's customer and number: a message handled again (or a state
            # lost to a crash and made again) counts the conversation once.
            key = f"{state.phone_number_id}#{state.customer}"
            self.recruits.count_conversation(shop, key, source, message.timestamp)
        return state, (source if source.kind != "organic" else None)

    def _arrival_welcome(
        self, shop: Shop, state: ConversationState, message_id: str, source: Source, now: datetime
    ) -> Turn | None:
        """The welcome of a customer an ad or a link brought, naming the product it showed."""
        if source.retailer_id is None:
            return None
        product_id = product_id_for(shop.id, source.retailer_id)
        product = self.catalogs.products_by_id(shop.id, [product_id]).get(product_id)
        if product is None:
            return None
        t = self._translator(shop, state)
        reply = offers.referral_welcome(t, shop.name, state.customer_name, ProductView.of(product))
        state = state.model_copy(update={"menu_sent_at": now, "shown": (product.id,)})
        return self._reply(state, message_id, f"reply-{message_id}", reply, "referral-welcome")

    def _offers(
        self, shop: Shop, state: ConversationState, message_id: str, offer: offers.OffersIntent, now: datetime
    ) -> Turn:
        assert self.recruits is not None
        t = self._translator(shop, state)
        reply_id = f"reply-{message_id}"
        consent = self.recruits.consent(shop.id, state.phone_number_id, state.customer)
        subscribed = consent is not None and consent.status == "opted_in"
        if offer.kind == "yes":
            changed = self.recruits.change_consent(
                shop.id,
                state.phone_number_id,
                state.customer,
                "opted_in",
                "button",
                now,
                words=offers.opt_in_words(t, shop.name),
            )
            reply = offers.opted_in(t, shop.name) if changed else offers.already_in(t)
            return self._reply(
                state, message_id, reply_id, reply, "offers-in" if changed else "offers-already-in"
            )
        if offer.kind == "no":
            return self._reply(state, message_id, reply_id, offers.declined(t), "offers-declined")
        return self._reply(
            state, message_id, reply_id, offers.prompt(t, shop.name, subscribed), "offers-prompt"
        )

    def _ad_consent(
        self,
        shop: Shop,
        state: ConversationState,
        message_id: str,
        said: ad_consent.AdConsentIntent,
        now: datetime,
    ) -> Turn:
        assert self.ad_consents is not None
        t = self._translator(shop, state)
        reply_id = f"reply-{message_id}"
        if said.kind == "ask_on":
            return self._reply(state, message_id, reply_id, ad_consent.prompt_on(t), "ads-consent-prompt")
        if said.kind == "ask_off":
            return self._reply(state, message_id, reply_id, ad_consent.prompt_off(t), "ads-withdraw-prompt")
        if said.kind == "keep":
            return self._reply(state, message_id, reply_id, ad_consent.kept(t), "ads-consent-kept")
        choice = "on" if said.kind == "on" else "off"
        self.ad_consents.record(
            state.customer,
            "given" if choice == "on" else "withdrawn",
            ad_consent.wording(t, choice),
            now,
            t.language,
            shop.country,
        )
        outcome = "ads-consent-given" if choice == "on" else "ads-consent-withdrawn"
        return self._reply(state, message_id, reply_id, ad_consent.done(t, choice), outcome)

    def _data_request(
        self,
        shop: Shop,
        state: ConversationState,
        message_id: str,
        said: data_requests.DataRequestIntent,
        now: datetime,
    ) -> Turn:
        assert self.data_requests is not None
        t = self._translator(shop, state)
        reply_id = f"reply-{message_id}"
        if said.kind == "keep":
            return self._reply(state, message_id, reply_id, data_requests.kept(t), "data-request-kept")
        if said.kind in ("ask_export", "ask_erase"):
            kind = "export" if said.kind == "ask_export" else "erase"
            return self._reply(
                state, message_id, reply_id, data_requests.prompt(t, kind), f"data-{kind}-prompt"
            )
        kind = "export" if said.kind == "export" else "erase"
        # Filed before the reply: a redelivery after a crash files it again, which finds the open one.
        self.data_requests.file(
            shop.id, state.customer, "export" if kind == "export" else "erasure", now, t.language
        )
        return self._reply(state, message_id, reply_id, data_requests.started(t, kind), f"data-{kind}-filed")

    def _stop_offers(
        self, shop: Shop | None, state: ConversationState, message_id: str, via: ConsentVia, now: datetime
    ) -> Turn:
        """No more offers, said once: a second STOP changes nothing and is not answered."""
        changed = self.recruits is not None and self.recruits.change_consent(
            state.shop_id, state.phone_number_id, state.customer, "opted_out", via, now
        )
        if not changed or shop is None:
            self.states.save(state)
            return Turn("offers-already-out" if not changed else "offers-out")
        reply = offers.opted_out(self._translator(shop, state), shop.name)
        return self._reply(state, message_id, f"reply-{message_id}", reply, "offers-out")

    def on_preference(self, shop_id: str, phone_number_id: str, customer: str, value: str) -> Turn:
        """WhatsApp's "Stop promotions" (Meta's user_preferences webhook): opted out as by STOP.
        WhatsApp confirms it to the customer itself. "resume" gives back offers only to a customer
        whose last word on them was WhatsApp's stop (they had opted in with the button before)."""
        if self.recruits is None:
            return Turn("preference-ignored")
        now = self.clock()
        if value == "stop":
            changed = self.recruits.change_consent(
                shop_id, phone_number_id, customer, "opted_out", "meta", now
            )
            return Turn("offers-out" if changed else "offers-already-out")
        consent = self.recruits.consent(shop_id, phone_number_id, customer)
        resumable = (
            consent is not None
            and consent.status == "opted_out"
            and consent.via == "meta"
            and consent.opted_in_at is not None
        )
        if value == "resume" and consent is not None and resumable:
            self.recruits.change_consent(
                shop_id, phone_number_id, customer, "opted_in", "meta", now, consent.opted_in_words
            )
            return Turn("offers-resumed")
        return Turn("preference-ignored")

    def _offer_after_order(
        self, state: ConversationState, message: OutboundMessage
    ) -> tuple[OutboundMessage, ConversationState]:
        """The opt-in, put to the customer unasked once: under their first order's summary (when it
        is plain text with room for the buttons), unless they said yes or no to offers already."""
        if self.recruits is None or state.offers_offered_at is not None or not isinstance(message, Text):
            return message, state
        shop = self.catalogs.shop(state.shop_id)
        if shop is None or self.recruits.consent(shop.id, state.phone_number_id, state.customer) is not None:
            return message, state
        asked = offers.prompt(self._translator(shop, state), shop.name, subscribed=False)
        body = f"{message.body}\n\n{asked.body}"
        if len(body) > MAX_INTERACTIVE_BODY:
            return message, state
        offered = ReplyButtons(body=body, buttons=asked.buttons)
        return offered, state.model_copy(update={"offers_offered_at": self.clock()})

    def _with_offers_footer(self, t: Translator, menu: OutboundMessage) -> OutboundMessage:
        # The menu says where the offers are; only where offers can be asked for.
        if self.recruits is None or not isinstance(menu, ReplyButtons) or menu.footer is not None:
            return menu
        return menu.model_copy(update={"footer": replies.cut(t.text(offers.OFFERS_FOOTER), MAX_FOOTER_TEXT)})

    # --- agents -----------------------------------------------------------------------------------

    def on_agent_message(self, state: ConversationState, act_id: str, message: OutboundMessage) -> Turn:
        """An agent's reply: sent, and the conversation is the agent's until released or quiet."""
        if state.handled_before(act_id):
            return self._again(state, act_id)
        now = self.clock()
        held = _held_by(state, "agent", now).model_copy(update={"agent_last_at": now})
        return self._reply(held, act_id, act_id, message, "agent-reply")

    def on_release(self, state: ConversationState, act_id: str) -> Turn:
        if state.handled_before(act_id):
            return Turn("duplicate")
        self.states.save(_held_by(state, "assistant", self.clock()).with_handled(act_id))
        return Turn("released")

    # --- the parts every step shares --------------------------------------------------------------

    def _state(self, shop_id: str, message: InboundMessage) -> ConversationState:
        state = self.states.get(message.phone_number_id, message.customer)
        if state is not None:
            return state
        state = ConversationState(
            conversation_id=new_conversation_id(),
            shop_id=shop_id,
            phone_number_id=message.phone_number_id,
            customer=message.customer,
            created_at=self.clock(),
        )
        self.states.create_pointer(state)
        return state

    def _again(self, state: ConversationState, handled_id: str) -> Turn:
        """A message handled before: only what may not have gone out goes again."""
        if state.pending == handled_id:
            return Turn("duplicate", f"answer-{handled_id}")
        kept = handled_id.startswith(("answer-", REMINDER_PREFIX))
        reply_id = handled_id if kept else f"reply-{handled_id}"
        self.replies.resend(reply_id)
        return Turn("duplicate", reply_id)

    def _quiet_agent_returns(self, state: ConversationState, now: datetime) -> ConversationState:
        if state.holder == "agent" and state.agent_last_at and now - state.agent_last_at >= self.agent_quiet:
            return _held_by(state, "assistant", now)
        return state

    def _failed(
        self,
        shop: Shop,
        state: ConversationState,
        handled_id: str,
        reply_id: str,
        t: Translator,
        reply: OutboundMessage,
        outcome: str,
        now: datetime,
    ) -> Turn:
        """An answer that did not help; the second in a row brings a person in, said once."""
        failures = state.failures + 1
        if failures >= FAILURES_BEFORE_HANDOFF:
            handoff = replies.text(t, phrases.HANDOFF_AFTER_FAILURES, shop=shop.name)
            return self._reply(
                _held_by(state, "waiting", now), handled_id, reply_id, handoff, "handoff-after-failures"
            )
        return self._reply(
            state.model_copy(update={"failures": failures}), handled_id, reply_id, reply, outcome
        )

    def _reply(
        self, state: ConversationState, handled_id: str, reply_id: str, message: OutboundMessage, outcome: str
    ) -> Turn:
        if outcome == "order-placed":
            message, state = self._offer_after_order(state, message)
        if state.menu_sent_at is None and _quoted(handled_id) is not None:
            # A customer's first answer, whatever they asked, begins with the shop's welcome.
            message, state = self._welcomed(state, message)
        record = OutboundRecord(
            id=reply_id,
            shop_id=state.shop_id,
            phone_number_id=state.phone_number_id,
            to=state.customer,
            message=message.model_dump(mode="json", exclude_none=True),
            # Quotes the customer's message it answers; an agent's reply quotes nothing.
            reply_to=_quoted(handled_id),
            created_at=self.clock(),
        )
        # Stored (and queued) before the state: a state that says "handled" always has its reply.
        self.replies.send(record)
        self.states.save(state)
        return Turn(outcome, reply_id)

    def _welcomed(
        self, state: ConversationState, message: OutboundMessage
    ) -> tuple[OutboundMessage, ConversationState]:
        shop = self.catalogs.shop(state.shop_id)
        body = getattr(message, "body", None)
        if shop is None or not body:
            return message, state
        welcome = self._translator(shop, state).text(phrases.WELCOME, shop=replies.cut(shop.name, 100))
        try:
            welcomed = type(message).model_validate({**message.model_dump(), "body": f"{welcome}\n\n{body}"})
        except (OutboundValidationError, ValidationError):
            return message, state  # the answer is long enough as it is
        return welcomed, state.model_copy(update={"menu_sent_at": self.clock()})

    def _translator(self, shop: Shop, state: ConversationState) -> Translator:
        language = (
            state.language or supported(getattr(shop, "language", None)) or default_language(shop.country)
        )
        return translator(language, shop.country)

    def _page_size(self, shop_id: str) -> int:
        return replies.PRODUCT_LIST_PAGE if self.catalogs.catalog_id(shop_id) else replies.LIST_PAGE


def _intent(message: InboundMessage) -> Intent:
    if message.button is not None:
        tapped = from_tap(message.button.id)
        if tapped is not None:
            return tapped
        # A button of a template or an old message: what it says is what the customer means.
        return from_text(message.button.title or "")
    if message.type == "text" and message.text:
        return from_text(message.text)
    if message.type == "order":
        return Intent("wa_order")
    return Intent("unsupported")


def _held_by(state: ConversationState, holder: Holder, now: datetime) -> ConversationState:
    if state.holder == holder:
        return state
    return state.model_copy(update={"holder": holder, "holder_since": now, "failures": 0})


def _quoted(handled_id: str) -> str | None:
    if handled_id.startswith("answer-"):
        return handled_id.removeprefix("answer-")
    if handled_id.startswith(("agent-", "release-", REMINDER_PREFIX)):
        return None
    return handled_id


def _exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get(currency, 2)
