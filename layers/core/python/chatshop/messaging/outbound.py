"""Messages chatshop sends to customers through the WhatsApp Cloud API, checked before they go.

Meta refuses a message that breaks one of its limits (a fourth button, a 25-character row title)
only when the sender calls ``POST /{version}/{phone_number_id}/messages``, far from the code that
built it, and a refused message can only be dead-lettered. So every kind of message is a frozen
pydantic model holding Meta's documented limits, ``parse_outbound`` turns a plain dict into one (or
an ``OutboundValidationError`` naming the field), and ``graph_body`` writes Meta's exact request body.

Also here, because the sender needs it and it is pure knowledge of Meta's rules: the 24-hour
customer service window, and which Graph API errors are worth a retry.

Pure: no I/O, no clock (callers pass ``now``), no settings.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

__all__ = [
    "CUSTOMER_WINDOW",
    "MAX_DELAY_S",
    "PERMANENT_ERRORS",
    "Amount",
    "Button",
    "CallToAction",
    "Image",
    "ListMessage",
    "ListRow",
    "ListSection",
    "OutboundMessage",
    "OrderDetails",
    "OrderDetailsItem",
    "OutboundValidationError",
    "OutsideCustomerWindow",
    "ProductListMessage",
    "ProductMessage",
    "ProductSection",
    "ReplyButtons",
    "SendFailure",
    "TemplateMessage",
    "Text",
    "check_sendable",
    "classify_graph_error",
    "graph_body",
    "is_free_form",
    "parse_outbound",
    "window_open",
]


# --- Errors -------------------------------------------------------------------------------------


class OutboundValidationError(ValueError):
    """A message Meta would refuse; ``field`` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str) -> None:
        # Both go to ValueError's args so the exception pickles and copies like any other, and
        # pydantic can carry it when a validator raises it.
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class OutsideCustomerWindow(OutboundValidationError):
    """A free-form message for a customer who has not written in 24 hours: only a template can go."""


# --- Meta's limits (characters are Unicode code points, as Python's len counts them) -----------

MAX_TEXT_BODY = 4096
MAX_CAPTION = 1024
MAX_INTERACTIVE_BODY = 1024  # reply buttons, product and product list messages
MAX_LIST_BODY = 4096  # list messages allow a longer body than the other interactive kinds
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_BUTTONS = 3
MAX_BUTTON_ID = 256
MAX_BUTTON_TITLE = 20
MAX_LIST_BUTTON_LABEL = 20
MAX_SECTIONS = 10
MAX_SECTION_TITLE = 24
MAX_LIST_ROWS = 10  # across all sections together, not per section
MAX_ROW_ID = 200
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_PRODUCT_ITEMS = 30  # across all sections together
MAX_RETAILER_ID = 100  # a catalog item's retailer id (content id) is at most 100 characters
MAX_TEMPLATE_NAME = 512
MAX_CTA_DISPLAY_TEXT = 20  # a call-to-action URL button's label
MAX_ORDER_ITEM_NAME = 60  # an order_details item's name
MAX_ORDER_ITEMS = 999  # Meta's documented ceiling on an order_details message's items
MAX_REFERENCE_ID = 35  # an order_details reference id: [A-Za-z0-9_.-], unique per order
# Meta writes every order_details amount as an integer over an offset; for INR and BRL the offset is
# 100 (paise, centavos), the currencies' minor unit.
ORDER_AMOUNT_OFFSET = 100
# Where WhatsApp takes payment in the chat, and the payment type and currency Meta expects there.
ORDER_DETAILS_PAYMENT = MappingProxyType({"upi": "INR", "br": "BRL"})

_WHITESPACE = re.compile(r"\s")
_TEMPLATE_NAME = re.compile(rf"[a-z0-9_]{{1,{MAX_TEMPLATE_NAME}}}")
# Meta's language codes: "en", "fil", "en_US", "pt_BR", "zh_HK" ...
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_REFERENCE_ID = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_REFERENCE_ID}}}")


def _not_blank(value: str) -> str:
    # A whitespace-only body or title passes a length check but shows the customer nothing.
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _no_edge_spaces(value: str) -> str:
    # Meta rejects reply-button ids with leading or trailing spaces.
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http or https URL Meta can fetch")
    return value


def _one_word(value: str) -> str:
    # Catalog and media ids are Meta's opaque ids: a space in one is always a mistake.
    if _WHITESPACE.search(value):
        raise ValueError("must not contain whitespace")
    return value


def _reference_id(value: str) -> str:
    if not _REFERENCE_ID.fullmatch(value):
        raise ValueError(
            f"must be 1 to {MAX_REFERENCE_ID} letters, digits, '_', '-' or '.', as Meta takes a reference_id"
        )
    return value


def _template_name(value: str) -> str:
    if not _TEMPLATE_NAME.fullmatch(value):
        raise ValueError(
            f"must be a template name as Meta has it: lowercase letters, digits and underscores, "
            f"at most {MAX_TEMPLATE_NAME} characters"
        )
    return value


def _language_code(value: str) -> str:
    if not _LANGUAGE_CODE.fullmatch(value):
        raise ValueError('must be a template language code as Meta has it, such as "en" or "en_US"')
    return value


def _chars(limit: int) -> StringConstraints:
    # min_length=1 even on optional fields: an empty footer or caption is refused by Meta, and
    # None (leaving the field out) is the way to say "none".
    return StringConstraints(min_length=1, max_length=limit)


TextBody = Annotated[str, _chars(MAX_TEXT_BODY), AfterValidator(_not_blank)]
Caption = Annotated[str, _chars(MAX_CAPTION), AfterValidator(_not_blank)]
InteractiveBody = Annotated[str, _chars(MAX_INTERACTIVE_BODY), AfterValidator(_not_blank)]
ListBody = Annotated[str, _chars(MAX_LIST_BODY), AfterValidator(_not_blank)]
HeaderText = Annotated[str, _chars(MAX_HEADER_TEXT), AfterValidator(_not_blank)]
FooterText = Annotated[str, _chars(MAX_FOOTER_TEXT), AfterValidator(_not_blank)]
ButtonId = Annotated[str, _chars(MAX_BUTTON_ID), AfterValidator(_not_blank), AfterValidator(_no_edge_spaces)]
ButtonTitle = Annotated[str, _chars(MAX_BUTTON_TITLE), AfterValidator(_not_blank)]
ListButtonLabel = Annotated[str, _chars(MAX_LIST_BUTTON_LABEL), AfterValidator(_not_blank)]
SectionTitle = Annotated[str, _chars(MAX_SECTION_TITLE), AfterValidator(_not_blank)]
RowId = Annotated[str, _chars(MAX_ROW_ID), AfterValidator(_not_blank)]
RowTitle = Annotated[str, _chars(MAX_ROW_TITLE), AfterValidator(_not_blank)]
RowDescription = Annotated[str, _chars(MAX_ROW_DESCRIPTION), AfterValidator(_not_blank)]
Identifier = Annotated[str, StringConstraints(min_length=1), AfterValidator(_one_word)]
RetailerId = Annotated[str, _chars(MAX_RETAILER_ID), AfterValidator(_not_blank)]
MediaLink = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_http_url)]
TemplateName = Annotated[str, AfterValidator(_template_name)]
LanguageCode = Annotated[str, AfterValidator(_language_code)]
CtaText = Annotated[str, _chars(MAX_CTA_DISPLAY_TEXT), AfterValidator(_not_blank)]
ItemName = Annotated[str, _chars(MAX_ORDER_ITEM_NAME), AfterValidator(_not_blank)]
ReferenceId = Annotated[str, AfterValidator(_reference_id)]


# --- Models -------------------------------------------------------------------------------------


class _Part(BaseModel):
    """Every outbound model: frozen, unknown fields refused, and one error type however it is built.

    Validation through ``parse_outbound`` never calls ``__init__``; the override is for code that
    builds a message directly (``Text(body=...)``), so it gets the same ``OutboundValidationError``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _from_pydantic(exc, drop_tag=False) from None


class Text(_Part):
    type: Literal["text"] = "text"
    body: TextBody
    preview_url: bool = False


class Image(_Part):
    """An image by uploaded media id or by public link: exactly one of the two."""

    type: Literal["image"] = "image"
    media_id: Identifier | None = None
    link: MediaLink | None = None
    caption: Caption | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Image:
        if self.media_id is not None and self.link is not None:
            raise OutboundValidationError("media_id", "give media_id or link, not both")
        if self.media_id is None and self.link is None:
            raise OutboundValidationError("media_id", "give one of media_id (an uploaded media) or link")
        return self


class Button(_Part):
    """A reply button; its ``id`` comes back in the webhook when the customer taps it."""

    id: ButtonId
    title: ButtonTitle


class ReplyButtons(_Part):
    type: Literal["buttons"] = "buttons"
    body: InteractiveBody
    buttons: Annotated[tuple[Button, ...], Field(min_length=1, max_length=MAX_BUTTONS)]
    header: HeaderText | None = None
    # A picture above the body (Meta's image header): how a product card shows its product.
    header_image: MediaLink | None = None
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _unique_buttons(self) -> ReplyButtons:
        if self.header is not None and self.header_image is not None:
            raise OutboundValidationError("header_image", "give a text header or an image header, not both")
        # Meta requires unique titles; unique ids are ours: a shared id makes two buttons
        # indistinguishable in the webhook.
        _require_unique("buttons", "id", [button.id for button in self.buttons])
        _require_unique("buttons", "title", [button.title for button in self.buttons])
        return self


class ListRow(_Part):
    id: RowId
    title: RowTitle
    description: RowDescription | None = None


class ListSection(_Part):
    title: SectionTitle | None = None
    rows: Annotated[tuple[ListRow, ...], Field(min_length=1, max_length=MAX_LIST_ROWS)]


class ListMessage(_Part):
    type: Literal["list"] = "list"
    body: ListBody
    button_label: ListButtonLabel
    sections: Annotated[tuple[ListSection, ...], Field(min_length=1, max_length=MAX_SECTIONS)]
    header: HeaderText | None = None
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _check_sections(self) -> ListMessage:
        _require_section_titles(self.sections)
        _require_total("sections", "rows", sum(len(s.rows) for s in self.sections), MAX_LIST_ROWS)
        # Row ids come back in the webhook, so they must tell rows apart across all sections.
        seen: set[str] = set()
        for i, section in enumerate(self.sections):
            for j, row in enumerate(section.rows):
                if row.id in seen:
                    raise OutboundValidationError(
                        f"sections.{i}.rows.{j}.id",
                        f"duplicate row id {_shown(row.id)}; row ids must be unique",
                    )
                seen.add(row.id)
        return self


class ProductMessage(_Part):
    """One catalog item (Meta's single-product message); Meta allows no header on it."""

    type: Literal["product"] = "product"
    catalog_id: Identifier
    product_retailer_id: RetailerId
    body: InteractiveBody | None = None
    footer: FooterText | None = None


class ProductSection(_Part):
    title: SectionTitle | None = None
    product_retailer_ids: Annotated[tuple[RetailerId, ...], Field(min_length=1, max_length=MAX_PRODUCT_ITEMS)]


class ProductListMessage(_Part):
    """Up to 30 catalog items in sections (Meta's multi-product message); header and body required."""

    type: Literal["product_list"] = "product_list"
    catalog_id: Identifier
    header: HeaderText
    body: InteractiveBody
    sections: Annotated[tuple[ProductSection, ...], Field(min_length=1, max_length=MAX_SECTIONS)]
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _check_sections(self) -> ProductListMessage:
        _require_section_titles(self.sections)
        total = sum(len(s.product_retailer_ids) for s in self.sections)
        _require_total("sections", "products", total, MAX_PRODUCT_ITEMS)
        return self


class TemplateMessage(_Part):
    """An approved template, the only kind Meta delivers outside the 24-hour window.

    ``components`` go to Meta as they are (header / body / button parameters, in Meta's own
    shape), because their shape depends on the template as approved in WhatsApp Manager, which
    only Meta knows; only the presence of each component's ``type`` is checked here.
    """

    type: Literal["template"] = "template"
    name: TemplateName
    language: LanguageCode
    components: tuple[dict[str, Any], ...] = ()

    @model_validator(mode="after")
    def _components_have_a_type(self) -> TemplateMessage:
        for i, component in enumerate(self.components):
            kind = component.get("type")
            if not isinstance(kind, str) or not kind:
                raise OutboundValidationError(
                    f"components.{i}.type", "every template component needs a type (header, body, button ...)"
                )
        return self


class CallToAction(_Part):
    """One URL button under a body (Meta's ``cta_url``): how a payment link is offered; the tap opens
    the browser, so nothing comes back in the webhook."""

    type: Literal["cta_url"] = "cta_url"
    body: InteractiveBody
    display_text: CtaText
    url: MediaLink
    header: HeaderText | None = None
    footer: FooterText | None = None


class Amount(_Part):
    """An order_details amount: ``value`` in the currency's minor units over Meta's offset of 100."""

    value: Annotated[int, Field(ge=0)]
    offset: Literal[100] = ORDER_AMOUNT_OFFSET
    description: Annotated[str, _chars(MAX_ORDER_ITEM_NAME)] | None = None


class OrderDetailsItem(_Part):
    retailer_id: RetailerId
    name: ItemName
    amount: Amount
    quantity: Annotated[int, Field(ge=1)]
    # Less than ``amount`` when the product is on sale; Meta sums the sale amount into the subtotal.
    sale_amount: Amount | None = None

    @property
    def charged(self) -> int:
        unit = self.sale_amount if self.sale_amount is not None else self.amount
        return unit.value * self.quantity


class OrderDetails(_Part):
    """Meta's in-chat bill (``order_details`` with ``review_and_pay``) where WhatsApp takes payment:
    India (``payment_type`` upi, INR, a payment configuration named in WhatsApp Manager) and Brazil
    (``br``, BRL, ``payment_settings`` such as a payment link). ``reference_id`` is the order's key
    in WhatsApp's payment status webhooks. Meta refuses a bill whose sums do not add up, and so does
    this model: the subtotal is the items' (sale) amounts times their quantities, the total is the
    subtotal plus tax and shipping less the discount."""

    type: Literal["order_details"] = "order_details"
    body: InteractiveBody
    reference_id: ReferenceId
    payment_type: Literal["upi", "br"]
    currency: Literal["INR", "BRL"]
    items: Annotated[tuple[OrderDetailsItem, ...], Field(min_length=1, max_length=MAX_ORDER_ITEMS)]
    subtotal: Amount
    tax: Amount = Amount(value=0)
    shipping: Amount | None = None
    discount: Amount | None = None
    total: Amount
    goods: Literal["physical-goods", "digital-goods"] = "physical-goods"
    payment_configuration: Annotated[str, _chars(60), AfterValidator(_not_blank)] | None = None
    # Brazil's ways to pay, in Meta's shape ({"type": "payment_link", "payment_link": {"uri"}} ...).
    payment_settings: tuple[dict[str, Any], ...] = ()
    catalog_id: Identifier | None = None
    # Unix seconds after which WhatsApp no longer lets the customer pay (an unpaid order's expiry).
    expires_at: Annotated[int, Field(gt=0)] | None = None
    expiration_description: Annotated[str, _chars(120), AfterValidator(_not_blank)] | None = None
    header: HeaderText | None = None
    footer: FooterText | None = None

    @model_validator(mode="after")
    def _adds_up(self) -> OrderDetails:
        expected = ORDER_DETAILS_PAYMENT[self.payment_type]
        if expected != self.currency:
            raise OutboundValidationError("currency", f"payment_type {self.payment_type!r} takes {expected}")
        if self.payment_type == "upi" and self.payment_configuration is None:
            raise OutboundValidationError(
                "payment_configuration", "is required for India: the configuration's name in WhatsApp Manager"
            )
        if self.payment_type == "br" and not self.payment_settings:
            raise OutboundValidationError("payment_settings", "Brazil needs at least one way to pay")
        for i, setting in enumerate(self.payment_settings):
            if not isinstance(setting.get("type"), str) or not isinstance(setting.get(setting["type"]), dict):
                raise OutboundValidationError(
                    f"payment_settings.{i}", "each needs a type and an object of that name, as Meta has it"
                )
        for i, item in enumerate(self.items):
            if item.sale_amount is not None and item.sale_amount.value >= item.amount.value:
                raise OutboundValidationError(
                    f"items.{i}.sale_amount", "must be less than the item's amount, as Meta requires"
                )
        subtotal = sum(item.charged for item in self.items)
        if self.subtotal.value != subtotal:
            raise OutboundValidationError(
                "subtotal", f"is {self.subtotal.value}, but the items add up to {subtotal}"
            )
        total = (
            subtotal
            + self.tax.value
            + (self.shipping.value if self.shipping else 0)
            - (self.discount.value if self.discount else 0)
        )
        if self.total.value != total:
            raise OutboundValidationError(
                "total", f"is {self.total.value}, but subtotal + tax + shipping - discount is {total}"
            )
        if self.expiration_description is not None and self.expires_at is None:
            raise OutboundValidationError("expires_at", "is required with an expiration_description")
        return self


OutboundMessage = Annotated[
    Text
    | Image
    | ReplyButtons
    | ListMessage
    | ProductMessage
    | ProductListMessage
    | TemplateMessage
    | CallToAction
    | OrderDetails,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[OutboundMessage] = TypeAdapter(OutboundMessage)


def _require_unique(collection: str, attribute: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise OutboundValidationError(
                f"{collection}.{index}.{attribute}",
                f"duplicate {attribute} {_shown(value)}; each must be unique",
            )
        seen.add(value)


def _shown(value: str) -> str:
    # Ids may be 256 characters long; an error message needs only enough to find the value.
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _require_section_titles(sections: Sequence[ListSection | ProductSection]) -> None:
    # Meta: a section title is required when the message has more than one section.
    if len(sections) < 2:
        return
    for index, section in enumerate(sections):
        if section.title is None:
            raise OutboundValidationError(
                f"sections.{index}.title", "a section title is required when there is more than one section"
            )


def _require_total(field: str, what: str, total: int, limit: int) -> None:
    if total > limit:
        raise OutboundValidationError(
            field, f"{total} {what} across all sections; Meta allows at most {limit} in one message"
        )


# --- Parsing ------------------------------------------------------------------------------------


def parse_outbound(data: Mapping[str, Any]) -> OutboundMessage:
    """The message ``data`` describes, checked against Meta's limits, or an OutboundValidationError."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _from_pydantic(exc, drop_tag=True) from None


def _from_pydantic(exc: ValidationError, *, drop_tag: bool) -> OutboundValidationError:
    # The first problem is reported (pydantic lists them in field order); the count of the others
    # tells the caller there is more to fix.
    errors = exc.errors()
    first = errors[0]
    loc = [str(part) for part in first["loc"]]
    if drop_tag and loc:
        # A discriminated union puts the tag ("text", "buttons" ...) first; it is not a field.
        loc = loc[1:]
    field, message = _locate(loc, first)
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return OutboundValidationError(field, message)


def _locate(loc: list[str], error: ErrorDetails) -> tuple[str, str]:
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, OutboundValidationError):
        # A model validator names its field relative to its model; loc says where that model is.
        return ".".join([*loc, cause.field]), cause.message
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "type", _describe(error)
    return (".".join(loc) or "(root)"), _describe(error)


def _describe(error: ErrorDetails) -> str:
    """Pydantic's message, reworded for the common cases to name Meta's limit."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_long":
        return f"longer than Meta's limit of {ctx['max_length']} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"{ctx['actual_length']} items; Meta allows at most {ctx['max_length']}"
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "unknown field; this message kind does not have it"
    if kind == "union_tag_invalid":
        return f"unknown message type {ctx['tag']!r}; expected one of {ctx['expected_tags']}"
    if kind == "union_tag_not_found":
        return (
            "is required: the message kind (text, image, buttons, list, product, product_list, template, "
            "cta_url, order_details)"
        )
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return error["msg"]


# --- Meta's request bodies ----------------------------------------------------------------------


def graph_body(message: OutboundMessage, to: str, reply_to: str | None = None) -> dict[str, Any]:
    """Meta's body for ``POST /{version}/{phone_number_id}/messages``; ``reply_to`` quotes a message."""
    if not to.strip():
        raise OutboundValidationError("to", "the recipient's WhatsApp number is required")
    kind, payload = _payload(message)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: payload,
    }
    if reply_to is not None:
        if not reply_to.strip():
            raise OutboundValidationError("reply_to", "the quoted message id must not be blank")
        body["context"] = {"message_id": reply_to}
    return body


def _payload(message: OutboundMessage) -> tuple[str, dict[str, Any]]:
    match message:
        case Text():
            return "text", {"preview_url": message.preview_url, "body": message.body}
        case Image():
            return "image", _image(message)
        case ReplyButtons():
            return "interactive", _reply_buttons(message)
        case ListMessage():
            return "interactive", _list(message)
        case ProductMessage():
            return "interactive", _product(message)
        case ProductListMessage():
            return "interactive", _product_list(message)
        case TemplateMessage():
            return "template", _template(message)
        case CallToAction():
            return "interactive", _cta_url(message)
        case OrderDetails():
            return "interactive", _order_details(message)
    raise TypeError(f"not an outbound message: {type(message).__name__}")


def _image(message: Image) -> dict[str, Any]:
    image: dict[str, Any] = (
        {"id": message.media_id} if message.media_id is not None else {"link": message.link}
    )
    if message.caption is not None:
        image["caption"] = message.caption
    return image


def _interactive(
    kind: str,
    action: dict[str, Any],
    body: str | None,
    header: str | None = None,
    footer: str | None = None,
    header_image: str | None = None,
) -> dict[str, Any]:
    interactive: dict[str, Any] = {"type": kind}
    if header is not None:
        interactive["header"] = {"type": "text", "text": header}
    elif header_image is not None:
        interactive["header"] = {"type": "image", "image": {"link": header_image}}
    if body is not None:
        interactive["body"] = {"text": body}
    if footer is not None:
        interactive["footer"] = {"text": footer}
    interactive["action"] = action
    return interactive


def _reply_buttons(message: ReplyButtons) -> dict[str, Any]:
    buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in message.buttons]
    return _interactive(
        "button", {"buttons": buttons}, message.body, message.header, message.footer, message.header_image
    )


def _list(message: ListMessage) -> dict[str, Any]:
    sections = [_list_section(section) for section in message.sections]
    action = {"button": message.button_label, "sections": sections}
    return _interactive("list", action, message.body, message.header, message.footer)


def _list_section(section: ListSection) -> dict[str, Any]:
    rows = []
    for row in section.rows:
        entry = {"id": row.id, "title": row.title}
        if row.description is not None:
            entry["description"] = row.description
        rows.append(entry)
    return _titled(section.title, {"rows": rows})


def _product(message: ProductMessage) -> dict[str, Any]:
    action = {"catalog_id": message.catalog_id, "product_retailer_id": message.product_retailer_id}
    return _interactive("product", action, message.body, footer=message.footer)


def _product_list(message: ProductListMessage) -> dict[str, Any]:
    sections = [
        _titled(s.title, {"product_items": [{"product_retailer_id": pid} for pid in s.product_retailer_ids]})
        for s in message.sections
    ]
    action = {"catalog_id": message.catalog_id, "sections": sections}
    return _interactive("product_list", action, message.body, message.header, message.footer)


def _titled(title: str | None, section: dict[str, Any]) -> dict[str, Any]:
    return {"title": title, **section} if title is not None else section


def _cta_url(message: CallToAction) -> dict[str, Any]:
    action = {"name": "cta_url", "parameters": {"display_text": message.display_text, "url": message.url}}
    return _interactive("cta_url", action, message.body, message.header, message.footer)


def _amount(amount: Amount) -> dict[str, Any]:
    shown: dict[str, Any] = {"value": amount.value, "offset": amount.offset}
    if amount.description is not None:
        shown["description"] = amount.description
    return shown


def _order_details(message: OrderDetails) -> dict[str, Any]:
    items = []
    for item in message.items:
        entry: dict[str, Any] = {
            "retailer_id": item.retailer_id,
            "name": item.name,
            "amount": _amount(item.amount),
            "quantity": item.quantity,
        }
        if item.sale_amount is not None:
            entry["sale_amount"] = _amount(item.sale_amount)
        items.append(entry)
    order: dict[str, Any] = {"status": "pending"}
    if message.catalog_id is not None:
        order["catalog_id"] = message.catalog_id
    order.update(items=items, subtotal=_amount(message.subtotal), tax=_amount(message.tax))
    if message.shipping is not None:
        order["shipping"] = _amount(message.shipping)
    if message.discount is not None:
        order["discount"] = _amount(message.discount)
    if message.expires_at is not None:
        expiration: dict[str, Any] = {"timestamp": str(message.expires_at)}
        if message.expiration_description is not None:
            expiration["description"] = message.expiration_description
        order["expiration"] = expiration
    parameters: dict[str, Any] = {
        "reference_id": message.reference_id,
        "type": message.goods,
        "payment_type": message.payment_type,
    }
    if message.payment_configuration is not None:
        parameters["payment_configuration"] = message.payment_configuration
    if message.payment_settings:
        parameters["payment_settings"] = copy.deepcopy(list(message.payment_settings))
    parameters.update(currency=message.currency, total_amount=_amount(message.total), order=order)
    action = {"name": "review_and_pay", "parameters": parameters}
    return _interactive("order_details", action, message.body, message.header, message.footer)


def _template(message: TemplateMessage) -> dict[str, Any]:
    template: dict[str, Any] = {"name": message.name, "language": {"code": message.language}}
    if message.components:
        # A deep copy: the model is frozen, but the dicts it holds are not, and a caller editing
        # the body it got back must not change the message.
        template["components"] = copy.deepcopy(list(message.components))
    return template


# --- The 24-hour customer service window --------------------------------------------------------

CUSTOMER_WINDOW = timedelta(hours=24)


def is_free_form(message: OutboundMessage) -> bool:
    """Everything but a template: what Meta delivers only inside the customer window."""
    return not isinstance(message, TemplateMessage)


def window_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form message may go: the customer wrote less than 24 hours before ``now``."""
    if last_customer_message_at is None:
        return False
    _require_aware("last_customer_message_at", last_customer_message_at)
    _require_aware("now", now)
    # A customer message stamped after ``now`` (clock skew) counts as just received: still open.
    return now - last_customer_message_at < CUSTOMER_WINDOW


def check_sendable(
    message: OutboundMessage, last_customer_message_at: datetime | None, now: datetime
) -> None:
    """Raise OutsideCustomerWindow if Meta would refuse ``message`` (code 131047) for the window."""
    if not is_free_form(message) or window_open(last_customer_message_at, now):
        return
    since = (
        "has never written to the shop"
        if last_customer_message_at is None
        else f"last wrote at {last_customer_message_at.isoformat()}"
    )
    raise OutsideCustomerWindow(
        "type",
        f"the customer {since}, outside the 24-hour customer service window; Meta delivers a "
        f"free-form {message.type!r} message only inside it, so send an approved template instead",
    )


def _require_aware(name: str, value: datetime) -> None:
    # A naive local time would silently shift the window by the UTC offset.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


# --- Graph API errors: retry or give up ---------------------------------------------------------

# SQS's longest DelaySeconds: the sender re-queues a retry with the delay, so none can be longer.
MAX_DELAY_S = 900
# Per-second limits clear fast: start short.
BACKOFF_BASE_S = 2
# Call-count limits are counted per hour: seconds-apart retries would only burn attempts.
CALL_LIMIT_BASE_S = 60
# Meta allows about one message every 6 seconds to the same customer.
PAIR_RATE_DELAY_S = 6

THROUGHPUT_LIMIT = 130429  # Rate limit hit: the phone number's messages-per-second throughput is reached.
PAIR_RATE_LIMIT = 131056  # Pair rate limit hit: too many messages to the same customer in a short time.
APP_TOO_MANY_CALLS = 4  # API Too Many Calls: the app reached its API call rate limit.
WABA_RATE_LIMIT = 80007  # Rate limit issues: the WhatsApp Business Account reached its rate limit.
GRAPH_RATE_LIMIT = 613  # Graph API: calls to this API have exceeded the rate limit.
API_UNKNOWN = 1  # API Unknown: invalid request or possible server error (Meta says check its status).
API_SERVICE = 2  # API Service: temporary, Meta is down or overloaded.
SOMETHING_WENT_WRONG = 131000  # Something went wrong: the send failed for an unknown reason; try again.
SERVICE_UNAVAILABLE = 131016  # Service unavailable: a Meta service is temporarily unavailable.
MAINTENANCE_MODE = 131057  # Account in maintenance mode, e.g. during a throughput upgrade.

_CALL_LIMIT_CODES = frozenset({APP_TOO_MANY_CALLS, WABA_RATE_LIMIT, GRAPH_RATE_LIMIT})
_TRANSIENT_CODES = frozenset(
    {API_UNKNOWN, API_SERVICE, SOMETHING_WENT_WRONG, SERVICE_UNAVAILABLE, MAINTENANCE_MODE}
)

# Errors that the same request will meet again: retrying only burns throughput and, for spam and
# quality errors, lowers the number's quality rating further. Reasons are Meta's meaning.
PERMANENT_ERRORS: Mapping[int, str] = MappingProxyType(
    {
        0: "AuthException: Meta could not authenticate the app (access token expired or invalidated)",
        3: "API Method: capability or permission issue with the app's access token",
        10: "Permission denied: the app lacks a permission or it was removed",
        100: "Invalid parameter: the request has an unsupported or misspelled parameter",
        190: "Access token has expired: a new access token is needed",
        368: "Temporarily blocked for policy violations: the WhatsApp Business Account is restricted",
        130472: "The customer's number is part of a Meta experiment: the message was not sent",
        130497: "The business account may not message customers in this country",
        131005: "Access denied: the permission was not granted or was revoked",
        131008: "Required parameter is missing from the request",
        131009: "Parameter value is not valid",
        131021: "Recipient cannot be sender: the business tried to message its own number",
        131026: "Message undeliverable: the number is not on WhatsApp, or has not accepted the terms, "
        "or runs an old WhatsApp version",
        131030: "Recipient phone number is not in the allowed list of the test number",
        131031: "The business account has been locked",
        131042: "Business eligibility payment issue: the account's payment method has a problem",
        131045: "Incorrect certificate: the business phone number is not properly registered",
        131047: "Re-engagement message: more than 24 hours since the customer last wrote; "
        "only a template can be sent",
        131048: "Spam rate limit hit: too many earlier messages were blocked or reported as spam",
        131049: "Meta chose not to deliver this message, to keep ecosystem engagement healthy",
        131050: "The customer has stopped marketing messages from this business",
        131051: "Unsupported message type",
        131053: "Media upload error: Meta could not fetch or accept the media",
        132000: "Template parameter count mismatch: the parameters do not match the template",
        132001: "Template does not exist in this language, or is not approved",
        132005: "Template text too long once its parameters are filled in",
        132007: "Template format character policy violated",
        132012: "Template parameter format mismatch",
        132015: "Template is paused for low quality",
        132016: "Template is disabled after being paused too often",
        133010: "The business phone number is not registered on the Cloud API",
    }
)


@dataclass(frozen=True)
class SendFailure:
    """What to do about a failed send: retry after ``delay_s``, or give up for ``permanent_reason``."""

    retry: bool
    delay_s: int
    permanent_reason: str | None

    @classmethod
    def retry_in(cls, delay_s: int) -> SendFailure:
        return cls(retry=True, delay_s=delay_s, permanent_reason=None)

    @classmethod
    def permanent(cls, reason: str) -> SendFailure:
        return cls(retry=False, delay_s=0, permanent_reason=reason)


def classify_graph_error(http_status: int, error_code: int | None, attempt: int) -> SendFailure:
    """Whether a Graph API error is worth another try, and when; ``attempt`` counts from 1.

    The error code decides before the HTTP status, as Meta advises: code 3 (a permissions issue)
    comes with HTTP 500, and the rate limits come with HTTP 400 as often as with 429.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if error_code == PAIR_RATE_LIMIT:
        return SendFailure.retry_in(_backoff(PAIR_RATE_DELAY_S, attempt))
    if error_code == THROUGHPUT_LIMIT or error_code in _TRANSIENT_CODES:
        return SendFailure.retry_in(_backoff(BACKOFF_BASE_S, attempt))
    if error_code in _CALL_LIMIT_CODES:
        return SendFailure.retry_in(_backoff(CALL_LIMIT_BASE_S, attempt))
    if error_code is not None and (reason := _permanent_reason(error_code)) is not None:
        return SendFailure.permanent(f"{error_code}: {reason}")
    if http_status == 429 or http_status >= 500:
        return SendFailure.retry_in(_backoff(BACKOFF_BASE_S, attempt))
    return SendFailure.permanent(
        f"{error_code if error_code is not None else 'no code'}: Graph API error with HTTP {http_status} "
        "that is not known to be transient"
    )


def _permanent_reason(error_code: int) -> str | None:
    if 200 <= error_code <= 299:
        return "API Permission: the permission was not granted or was removed"
    return PERMANENT_ERRORS.get(error_code)


def _backoff(base_s: int, attempt: int) -> int:
    # Doubles with each attempt, capped; no jitter, so the result is a pure function of its input
    # (the sender may add jitter). The exponent cap only keeps the integer small.
    return min(MAX_DELAY_S, base_s * 2 ** min(attempt - 1, 20))
