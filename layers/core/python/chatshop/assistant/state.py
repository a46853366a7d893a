"""What the assistant remembers of one conversation: one customer with one shop's number.

The inbound worker alone changes it, one message at a time (the inbound FIFO queue serialises a
conversation), and every change is written conditionally on the version it read, so a worker run
twice for the same message cannot interleave two changes.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .cart import Cart

Holder = Literal["assistant", "waiting", "agent"]

# How many inbound ids are remembered as handled: a redelivery comes within minutes, never after
# dozens of newer messages of the same conversation (the queue is FIFO per conversation).
HANDLED_KEPT = 20
# A second greeting within this time gets a short answer instead of the menu again.
MENU_QUIET = timedelta(minutes=30)
# Answers that did not help, in a row, before a person is asked in.
FAILURES_BEFORE_HANDOFF = 2


class ConversationState(BaseModel):
    model_config = ConfigDict(frozen=True)

    conversation_id: str
    shop_id: str
    phone_number_id: str
    customer: str
    customer_name: str | None = None
    language: str | None = None
    holder: Holder = "assistant"
    holder_since: datetime | None = None
    # The last time an agent wrote; the assistant takes the conversation back after a quiet time.
    agent_last_at: datetime | None = None
    menu_sent_at: datetime | None = None
    failures: int = 0
    # Where the conversation came from (``chatshop.recruiting.sources.Source.as_dict``: an ad, a
    # post, a link of the shop, or organic) and when the customer first wrote, recorded once.
    source: dict[str, Any] | None = None
    first_contact_at: datetime | None = None
    # When the opt-in to offers was put to the customer unasked (once, with their first order).
    offers_offered_at: datetime | None = None
    # The last list the customer was shown (advice or a category), all of it, best first, and how
    # much of it was sent; ``shown`` is the last message's products in order, for "the second one".
    results: tuple[str, ...] = ()
    offset: int = 0
    shown: tuple[str, ...] = ()
    category: str | None = None
    # The last question asked, as ``chatshop.assistant.constraints.Question.to_dict``, for follow-ups.
    question: dict[str, Any] | None = None
    # The inbound id and the words of a question the question worker has not answered yet: a
    # follow-up sent before the answer came ("in blue") refines that question, not the one before.
    pending: str | None = None
    pending_text: str | None = None
    # What the customer put in the cart in the chat (WhatsApp's own cart arrives as an order).
    cart: Cart = Cart()
    handled: tuple[str, ...] = ()
    last_message_at: datetime | None = None
    created_at: datetime | None = None
    version: int = 0

    def handled_before(self, message_id: str) -> bool:
        return message_id in self.handled

    def with_handled(self, message_id: str, **changes: Any) -> ConversationState:
        handled = (*self.handled, message_id)[-HANDLED_KEPT:]
        return self.model_copy(update={**changes, "handled": handled})

    def acquisition(self) -> tuple[dict[str, Any], datetime | None]:
        """Where the conversation came from and when it began, as an order is credited with them
        (``Buyer.source``, ``Buyer.first_contact_at``): a conversation from before sources were
        recorded is organic, first met when it was created."""
        return dict(self.source or {"kind": "organic"}), self.first_contact_at or self.created_at


def new_conversation_id() -> str:
    """An opaque, random id: the API never shows a customer's number, nor anything derived from it
    (a hash of a phone number is reversed by trying every number)."""
    return f"cv_{secrets.token_hex(12)}"


_HIDDEN = "\u2022"


def masked_number(customer: str) -> str:
    """The customer's number as the merchant sees it: the first two digits and the last two, the
    rest hidden; a customer known only by a user id shows its first characters."""
    if not customer.isdigit() or len(customer) < 6:
        return customer[:4] + "\u2026" if len(customer) > 4 else "\u2026"
    return f"+{customer[:2]}{_HIDDEN * (len(customer) - 4)}{customer[-2:]}"
