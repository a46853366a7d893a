"""The inbound worker's units, dispatched: webhook units to the channel (which asks the assistant
to answer messages), the question worker's answers and the agents' acts to the assistant.

All of them come through the inbound FIFO queue, in their conversation's message group, so the
conversation's state has one writer and sees its events in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import handle_unit, queue_reply
from chatshop.messaging.inbound import InboundMessage, PreferenceUpdate, parse_unit
from chatshop.messaging.media_fetch import MediaFetcher
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.payment_status import is_payment, parse_payment
from chatshop.messaging.photo_queue import PhotoSearchQueue
from chatshop.messaging.records import OutboundRecord, SendJob

from .state_store import StateStore
from .units import AGENT_MESSAGE, AGENT_RELEASE, ANSWER_KIND, CART_REMINDER

if TYPE_CHECKING:
    from .dialogue import Assistant


class OutboxReplies:
    """The assistant's replies, stored and sent as every reply of the channel is."""

    def __init__(self, store: ConversationStore, outbox: OutboundQueue) -> None:
        self._store = store
        self._outbox = outbox

    def send(self, record: OutboundRecord) -> None:
        queue_reply(self._store, self._outbox, record)

    def resend(self, reply_id: str) -> None:
        current = self._store.outbound(reply_id)
        if current is not None and current.status == "queued":
            self._outbox.send(SendJob(outbound_id=reply_id))


@dataclass(frozen=True)
class InboundWorker:
    store: ConversationStore
    outbox: OutboundQueue
    media: MediaFetcher
    photos: PhotoSearchQueue | None
    states: StateStore
    # Made on first use: units that are only Meta's statuses never need it.
    assistant_of: Callable[[], Assistant]

    @property
    def assistant(self) -> Assistant:
        return self.assistant_of()

    def handle(self, body: dict[str, Any]) -> str:
        """One unit of the inbound queue; the outcome, for the log."""
        kind = body.get("kind")
        if kind == ANSWER_KIND:
            from .questions import Answer

            return self.assistant.on_answer(Answer.model_validate(body["answer"])).outcome
        if kind in (AGENT_MESSAGE, AGENT_RELEASE):
            return self._agent_act(kind, body)
        if kind == CART_REMINDER:
            return self.assistant.on_cart_reminder(
                str(body["phone_number_id"]), str(body["customer"]), str(body["cart_id"])
            ).outcome
        if is_payment(body):
            return self._payment(body)
        if kind == "preference":
            return self._preference(body)
        return handle_unit(self.store, self.outbox, self.media, body, self.photos, self._respond).outcome

    def _respond(self, shop_id: str, message: InboundMessage, search_photo: Any) -> str | None:
        return self.assistant.on_message(shop_id, message, search_photo).reply_id

    def _preference(self, body: dict[str, Any]) -> str:
        """WhatsApp's "Stop promotions" and its "resume", for the customer's consent to offers."""
        parsed = parse_unit(body)
        shop_id = body.get("shop_id")
        if not isinstance(parsed, PreferenceUpdate) or not shop_id:
            return handle_unit(self.store, self.outbox, self.media, body, self.photos, self._respond).outcome
        if parsed.category != "marketing_messages":
            return "preference-ignored"
        return self.assistant.on_preference(
            str(shop_id), parsed.phone_number_id, parsed.customer, parsed.value
        ).outcome

    def _payment(self, body: dict[str, Any]) -> str:
        """WhatsApp's payment status of a bill the assistant sent; one Meta would not send is kept
        as every unreadable unit is."""
        payment = parse_payment(body)
        shop_id = body.get("shop_id")
        if payment is None or not shop_id:
            self.store.keep_unparsed(shop_id, "unreadable payment status", body)
            return "kept-unparsed"
        return self.assistant.on_payment(str(shop_id), payment).outcome

    def _agent_act(self, kind: str, body: dict[str, Any]) -> str:
        state = self.states.by_id(str(body.get("conversation_id")))
        if state is None:
            return "no-conversation"
        act_id = str(body["act_id"])
        if kind == AGENT_RELEASE:
            return self.assistant.on_release(state, act_id).outcome
        from chatshop.messaging.outbound import Text

        return self.assistant.on_agent_message(state, act_id, Text(body=str(body["text"]))).outcome
