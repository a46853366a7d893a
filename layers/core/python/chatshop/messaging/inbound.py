"""One inbound unit (see :mod:`chatshop.messaging.webhook`) as a plain, typed domain model.

:func:`parse_unit` never raises: what it cannot understand comes back as :class:`UnparsedPayload`
with the body kept, so the worker can store it and alarm instead of failing its batch. Models
ignore the Meta fields we do not use and accept numbers sent as strings (and ids sent as numbers).
Reasons never quote values: bodies hold phone numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AliasPath,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from .webhook import message_customer, status_customer

# Message types whose content is a media object named after the type.
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# Interactive replies that carry a choice (id/title/description); flows ("nfm_reply") and others
# keep only ``interactive_type``.
CHOICE_REPLIES = frozenset({"button_reply", "list_reply"})

# Ids a unit is useless without: the worker routes by phone number id and answers the customer.
Required = Annotated[str, Field(min_length=1)]
StatusName = Literal["sent", "delivered", "read", "failed", "deleted", "warning"]

STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3}
# "failed" ranks above "read": it always advances and nothing advances past it (see advances).
_FAILED_RANK = max(STATUS_RANK.values()) + 1


class _MetaModel(BaseModel):
    # extra="ignore": Meta adds fields often; coerce_numbers_to_str: ids are strings that some
    # senders (and Meta's own samples) write as numbers; populate_by_name: aliases map Meta's names.
    model_config = ConfigDict(frozen=True, extra="ignore", coerce_numbers_to_str=True, populate_by_name=True)


class MetaError(_MetaModel):
    code: int
    title: str | None = None
    message: str | None = None
    details: str | None = Field(
        default=None, validation_alias=AliasChoices("details", AliasPath("error_data", "details"))
    )


class Media(_MetaModel):
    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    # Only some webhooks carry a download URL; otherwise fetch it from the Graph API by id.
    url: str | None = None
    filename: str | None = None


class Reply(_MetaModel):
    """A choice: a template quick-reply ``button`` (payload/text) or an interactive button/list reply."""

    kind: Literal["button", "button_reply", "list_reply"]
    id: str | None = Field(default=None, validation_alias=AliasChoices("id", "payload"))
    title: str | None = Field(default=None, validation_alias=AliasChoices("title", "text"))
    description: str | None = None


class OrderItem(_MetaModel):
    product_retailer_id: str
    quantity: int
    # Decimal from what Meta sent (number or string), never a float: it is money.
    item_price: Decimal
    currency: str


class Order(_MetaModel):
    catalog_id: str
    text: str | None = None
    items: list[OrderItem] = Field(validation_alias=AliasChoices("items", "product_items"))


class Location(_MetaModel):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class Reaction(_MetaModel):
    message_id: str
    # Absent when the customer removes a reaction.
    emoji: str | None = None


class Referral(_MetaModel):
    """The click-to-WhatsApp ad or post that started the conversation."""

    source_url: str | None = None
    source_type: str | None = None
    source_id: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


class ReferredProduct(_MetaModel):
    catalog_id: str
    product_retailer_id: str


class Context(_MetaModel):
    """What a message replies to, or that it was forwarded, or the product it asks about."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: ReferredProduct | None = None


class InboundMessage(_MetaModel):
    id: Required
    phone_number_id: Required
    customer: Required
    customer_user_id: str | None = None
    customer_name: str | None = None
    timestamp: AwareDatetime
    type: str
    text: str | None = None
    media: Media | None = None
    button: Reply | None = None
    interactive_type: str | None = None
    order: Order | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    referral: Referral | None = None
    context: Context | None = None
    errors: list[MetaError] = Field(default_factory=list)
    system: dict[str, Any] | None = None


class StatusUpdate(_MetaModel):
    message_id: Required
    phone_number_id: Required
    customer: Required
    customer_user_id: str | None = None
    status: StatusName
    timestamp: AwareDatetime
    errors: list[MetaError] = Field(default_factory=list)
    conversation_id: str | None = None
    pricing_category: str | None = None
    callback_data: str | None = None


class PreferenceUpdate(_MetaModel):
    """A customer's marketing preference from WhatsApp itself (the ``user_preferences`` webhook):
    ``value`` "stop" when they tapped "Stop promotions", "resume" when they took it back."""

    phone_number_id: Required
    customer: Required
    category: str
    value: str
    timestamp: AwareDatetime | None = None
    detail: str | None = None


class UnparsedPayload(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: str
    body: dict[str, Any]


def parse_unit(body: dict[str, Any]) -> InboundMessage | StatusUpdate | PreferenceUpdate | UnparsedPayload:
    """The unit's body as a message, a status, or (anything else) an UnparsedPayload. Never raises."""
    if not isinstance(body, dict):
        return UnparsedPayload(reason="the unit body is not an object", body={"value": body})
    kind = body.get("kind")
    try:
        if kind == "message" and isinstance(body.get("message"), dict):
            return InboundMessage.model_validate(_message_fields(body))
        if kind == "status" and isinstance(body.get("status"), dict):
            return StatusUpdate.model_validate(_status_fields(body))
        if kind == "preference" and isinstance(body.get("preference"), dict):
            preference: dict[str, Any] = body["preference"]
            return PreferenceUpdate.model_validate(
                {
                    **preference,
                    "phone_number_id": body.get("phone_number_id"),
                    "customer": preference.get("wa_id") or preference.get("user_id"),
                }
            )
    except ValidationError as exc:
        return UnparsedPayload(reason=f"invalid {kind}: {_where(exc)}", body=body)
    except Exception as exc:  # the contract: a unit we cannot read is kept, never raised
        return UnparsedPayload(reason=f"unreadable {kind}: {type(exc).__name__}", body=body)
    field = body.get("field")
    if kind == "unknown":
        return UnparsedPayload(reason=f"unknown change (field {_short(field)})", body=body)
    return UnparsedPayload(reason=f"unexpected unit kind {_short(kind)}", body=body)


def _message_fields(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = body["message"]
    contacts = _dicts(body.get("contacts"))
    customer = message_customer(message, contacts)
    contact = _contact(customer, contacts)
    message_type = message.get("type") or "unknown"
    interactive = _dict(message.get("interactive"))
    return {
        "id": message.get("id"),
        "phone_number_id": body.get("phone_number_id"),
        "customer": customer,
        "customer_user_id": message.get("from_user_id") or message.get("user_id") or contact.get("user_id"),
        "customer_name": _dict(contact.get("profile")).get("name"),
        "timestamp": message.get("timestamp"),
        "type": message_type,
        "text": _dict(message.get("text")).get("body"),
        "media": message.get(message_type) if message_type in MEDIA_TYPES else None,
        "button": _reply(message, interactive),
        "interactive_type": interactive.get("type"),
        "order": message.get("order"),
        "location": message.get("location"),
        "reaction": message.get("reaction"),
        "referral": message.get("referral"),
        "context": message.get("context"),
        # Meta reports some message problems on the change (value.errors), not on the message.
        "errors": _dicts(message.get("errors")) + _dicts(body.get("errors")),
        "system": message.get("system"),
    }


def _reply(message: dict[str, Any], interactive: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(message.get("button"), dict):
        return {"kind": "button", **message["button"]}
    reply_type = interactive.get("type")
    if reply_type in CHOICE_REPLIES and isinstance(interactive.get(reply_type), dict):
        return {"kind": reply_type, **interactive[reply_type]}
    return None


def _status_fields(body: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = body["status"]
    customer = status_customer(status)
    return {
        "message_id": status.get("id"),
        "phone_number_id": body.get("phone_number_id"),
        "customer": customer,
        "customer_user_id": status.get("recipient_user_id")
        or _contact(customer, _dicts(body.get("contacts"))).get("user_id"),
        "status": status.get("status"),
        "timestamp": status.get("timestamp"),
        "errors": _dicts(status.get("errors")) + _dicts(body.get("errors")),
        "conversation_id": _dict(status.get("conversation")).get("id"),
        "pricing_category": _dict(status.get("pricing")).get("category"),
        "callback_data": status.get("biz_opaque_callback_data"),
    }


def advances(current: str | None, new: str) -> bool:
    """Whether status ``new`` replaces ``current`` as a message's delivery state.

    Monotonic (sent < delivered < read < failed), so the final state is the same whatever order
    Meta's events arrive in; Meta does not order them. A late "delivered" never overwrites "read",
    and a repeat is no change. "failed" is recorded over any other state, "read" included: Meta
    does not promise that a failure comes before a delivery (a customer may have several devices),
    and a failure is worth surfacing rather than hiding behind an earlier read. Nothing moves a
    failed message back. Statuses off the ladder ("deleted", "warning", unknown ones) never
    advance it: keep them as events, not as the state.
    """
    new_rank = _rank(new)
    return new_rank > 0 and new_rank > _rank(current)


def _rank(status: str | None) -> int:
    if status == "failed":
        return _FAILED_RANK
    return STATUS_RANK.get(status or "", 0)


def _contact(customer: str, contacts: list[dict[str, Any]]) -> dict[str, Any]:
    """The contact that is the customer; the only contact when none matches; else none (no guessing)."""
    for contact in contacts:
        if customer and customer in (contact.get("wa_id"), contact.get("user_id")):
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _where(exc: ValidationError) -> str:
    """Where and what failed, never the input: pydantic's own message would quote phone numbers."""
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'body'} ({error['type']})"
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    return "; ".join(problems[:5])


def _short(value: Any) -> str:
    return repr(value)[:60] if isinstance(value, str | None) else type(value).__name__
