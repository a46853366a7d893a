"""The merchant's inbox: a shop's conversations, their messages, and an agent's replies.

Reading is direct. Acting (an agent's reply, a release) is queued into the conversation's own
group of the inbound FIFO queue, so the inbound worker, the one writer of a conversation's state,
applies it in order with what the customer sends meanwhile. Whether a reply may go at all is
checked here, before it is queued: outside Meta's 24-hour window only a template may be sent, and
the agent is told so with a 409 instead of a reply that would fail later.

The customer is shown by profile name and masked number; the full number never leaves the worker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.messaging.outbound import MAX_TEXT_BODY, window_open
from chatshop.platform.errors import Conflict, NotFound, ValidationFailed
from chatshop.shops.cursor import decode_cursor, encode_cursor
from chatshop.shops.domain import Page, Shop

from .state import ConversationState, Holder, masked_number
from .units import AGENT_MESSAGE, AGENT_RELEASE

MAX_PAGE = 50


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_BODY)]


class ConversationSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: Holder
    customer_name: str | None
    customer: str = Field(description="The customer's WhatsApp number, masked.")
    language: str | None
    last_message_at: datetime | None
    status_since: datetime | None
    created_at: datetime | None


class ThreadMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    direction: Literal["in", "out"]
    at: datetime
    type: str
    text: str | None = None
    # What the message offered or chose: button and row titles, product ids.
    details: dict[str, Any] = {}


class ConversationDetail(ConversationSummary):
    messages: list[ThreadMessage]
    next_cursor: str | None = None


class AgentAct(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    conversation_id: str
    status: Literal["queued"] = "queued"


class States(Protocol):
    def by_id(self, conversation_id: str) -> ConversationState | None: ...

    def inbox(
        self, shop_id: str, holder: Holder, limit: int, cursor: str | None
    ) -> tuple[list[ConversationState], str | None]: ...


class Messages(Protocol):
    def thread(
        self, phone_number_id: str, customer: str, limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]: ...

    def last_inbound_at(self, phone_number_id: str, customer: str) -> datetime | None: ...


class Acts(Protocol):
    def send(self, phone_number_id: str, customer: str, dedup_id: str, body: dict[str, Any]) -> None: ...


def summary(state: ConversationState) -> ConversationSummary:
    return ConversationSummary(
        id=state.conversation_id,
        status=state.holder,
        customer_name=state.customer_name,
        customer=masked_number(state.customer),
        language=state.language,
        last_message_at=state.last_message_at,
        status_since=state.holder_since,
        created_at=state.created_at,
    )


def list_conversations(
    states: States, shop: Shop, status: Holder, limit: int, cursor: str | None
) -> Page[ConversationSummary]:
    found, next_cursor = states.inbox(shop.id, status, limit, cursor)
    return Page[ConversationSummary](items=[summary(s) for s in found], next_cursor=next_cursor)


def conversation_detail(
    states: States, messages: Messages, shop: Shop, conversation_id: str, limit: int, cursor: str | None
) -> ConversationDetail:
    state = _owned(states, shop, conversation_id)
    items, next_key = messages.thread(
        state.phone_number_id, state.customer, limit, _thread_key(state, cursor)
    )
    return ConversationDetail(
        **summary(state).model_dump(),
        messages=[thread_message(item) for item in items],
        next_cursor=_thread_cursor(state, next_key),
    )


def send_agent_reply(
    states: States,
    messages: Messages,
    acts: Acts,
    shop: Shop,
    conversation_id: str,
    reply: AgentReply,
    now: datetime,
) -> AgentAct:
    state = _owned(states, shop, conversation_id)
    if not window_open(messages.last_inbound_at(state.phone_number_id, state.customer), now):
        raise Conflict(
            "The customer last wrote more than 24 hours ago: outside WhatsApp's customer service window "
            "only an approved template can be sent."
        )
    act = AgentAct(id=f"agent-{uuid.uuid4().hex}", conversation_id=state.conversation_id)
    body = {
        "kind": AGENT_MESSAGE,
        "conversation_id": state.conversation_id,
        "act_id": act.id,
        "text": reply.text,
    }
    acts.send(state.phone_number_id, state.customer, act.id, body)
    return act


def release(states: States, acts: Acts, shop: Shop, conversation_id: str) -> AgentAct:
    state = _owned(states, shop, conversation_id)
    act = AgentAct(id=f"release-{uuid.uuid4().hex}", conversation_id=state.conversation_id)
    body = {"kind": AGENT_RELEASE, "conversation_id": state.conversation_id, "act_id": act.id}
    acts.send(state.phone_number_id, state.customer, act.id, body)
    return act


def thread_message(item: dict[str, Any]) -> ThreadMessage:
    """A stored message as the inbox shows it: what was said, never a number."""
    summary_ = item["summary"]
    at = item["key"].split("#")[1]
    if item["direction"] == "in":
        button = summary_.get("button") or {}
        details = {k: v for k, v in (("choice", button.get("title")), ("choice_id", button.get("id"))) if v}
        if summary_.get("media"):
            details["media_type"] = summary_["media"].get("mime_type")
        if summary_.get("order"):
            details["order_items"] = [
                i.get("product_retailer_id") for i in summary_["order"].get("items", [])
            ]
        return ThreadMessage(
            direction="in",
            at=at,
            type=summary_.get("type", "unknown"),
            text=summary_.get("text") or (summary_.get("media") or {}).get("caption"),
            details=details,
        )
    return ThreadMessage(
        direction="out",
        at=at,
        type=summary_.get("type", "unknown"),
        text=_outbound_text(summary_),
        details=_outbound_details(summary_),
    )


def _outbound_text(message: dict[str, Any]) -> str | None:
    return message.get("body") or message.get("caption")


def _outbound_details(message: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if message.get("buttons"):
        details["buttons"] = [b.get("title") for b in message["buttons"]]
    if message.get("sections"):
        rows = [r.get("title") for s in message["sections"] for r in s.get("rows", [])]
        products = [p for s in message["sections"] for p in s.get("product_retailer_ids", [])]
        if rows:
            details["rows"] = rows
        if products:
            details["products"] = products
    if message.get("product_retailer_id"):
        details["products"] = [message["product_retailer_id"]]
    return details


def _owned(states: States, shop: Shop, conversation_id: str) -> ConversationState:
    state = states.by_id(conversation_id)
    if state is None or state.shop_id != shop.id:
        raise NotFound(f"No conversation {conversation_id}.")
    return state


def _thread_key(state: ConversationState, cursor: str | None) -> str | None:
    """The sort key a page of the thread continues after, from a cursor issued for this thread."""
    decoded = decode_cursor(cursor, ("c", state.conversation_id), frozenset({"c", "k"}))
    if decoded is None:
        return None
    key = decoded["k"]
    if not isinstance(key, dict) or not str(key.get("S", "")).startswith("MSG#"):
        raise ValidationFailed(["cursor"], "The cursor is not valid.")
    return key["S"]


def _thread_cursor(state: ConversationState, key: str | None) -> str | None:
    return encode_cursor({"c": {"S": state.conversation_id}, "k": {"S": key}}) if key else None
