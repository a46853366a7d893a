"""What Meta's WhatsApp Cloud API accepts on ``POST /{phone_number_id}/messages``, and how it says no.

Pure code, no I/O: the Graph API emulator (``graph_emulator``) hands in the parsed JSON body and gets a
:class:`SendRequest` back, or a :class:`GraphError` whose :meth:`GraphError.body` is Meta's error shape.

Which code Meta answers with, where we could tell from Meta's reference and real responses:

- ``100`` "(#100) ..." for the message envelope and plain fields (``messaging_product``, ``to``, ``type``,
  ``text.body``, media, template): Graph's own parameter validation.
- ``131009`` "(#131009) Parameter value is not valid" for out-of-range values inside an interactive
  message (too many buttons or rows, titles too long, duplicate ids), with the reason in
  ``error_data.details``.
- ``131008`` "(#131008) Required parameter is missing" for a part an interactive message needs (the
  header of a product list, section titles when there are several sections, the action).

The ``details`` texts are ours, written in the style of Meta's ("Button title length invalid. Min length:
1, Max length: 20"); code should branch on ``code``, as Meta itself recommends, never on the text.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Limits of the Cloud API messages reference (interactive messages, text, captions).
TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
CAPTION_MAX = 1024
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTON_ID_MAX = 256
LIST_BUTTON_LABEL_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10  # across all sections together
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24
PRODUCT_LIST_ITEMS_MAX = 30  # across all sections together
CTA_DISPLAY_TEXT_MAX = 20
ORDER_ITEM_NAME_MAX = 60
ORDER_REFERENCE_ID = re.compile(r"[A-Za-z0-9_.\-]{1,35}")
# Payments in the chat: India (UPI and payment gateways, INR) and Brazil (BRL); offset 100 in both.
ORDER_PAYMENT_CURRENCY = {"upi": "INR", "br": "BRL"}
ORDER_AMOUNT_OFFSET = 100
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512

MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
MESSAGE_TYPES = MEDIA_TYPES | {"text", "location", "contacts", "interactive", "template", "reaction"}
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "list",
        "product",
        "product_list",
        "catalog_message",
        "cta_url",
        "order_details",
        "flow",
        "location_request_message",
        "address_message",
    }
)
# A recipient is a phone number in international form: up to 15 digits (E.164), an optional "+".
_RECIPIENT = re.compile(r"\+?[0-9]{1,15}")


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


class GraphError(Exception):
    """An error as the Graph API reports it: an HTTP status and an ``{"error": {...}}`` body."""

    def __init__(
        self,
        http_status: int,
        code: int,
        message: str,
        *,
        error_type: str = "OAuthException",
        details: str | None = None,
        subcode: int | None = None,
        is_transient: bool | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.details = details
        self.subcode = subcode
        self.is_transient = is_transient
        # The code's title, used by status webhooks that report this error asynchronously.
        self.title = title or message

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        error["code"] = self.code
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def webhook_error(self) -> dict[str, Any]:
        """The error as ``statuses[].errors[]`` of a ``failed`` status webhook carries it."""
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details or self.title},
            "href": ERROR_CODES_URL,
        }

    @property
    def www_authenticate(self) -> str:
        # Graph repeats the message in this header; clients that only log headers still see why.
        kind = "invalid_token" if self.code == 190 else "invalid_request"
        message = self.message.replace('"', "'")  # a quote inside would end the quoted string
        return f'OAuth "Facebook Platform" "{kind}" "{message}"'


def invalid_parameter(details: str) -> GraphError:
    return GraphError(400, 100, "(#100) Invalid parameter", details=details, title="Invalid parameter")


def required_parameter(name: str) -> GraphError:
    sentence = f"The parameter {name} is required."
    return GraphError(400, 100, f"(#100) {sentence}", details=sentence, title="Invalid parameter")


def parameter_value_invalid(details: str) -> GraphError:
    return GraphError(
        400,
        131009,
        "(#131009) Parameter value is not valid",
        details=details,
        title="Parameter value is not valid",
    )


def required_parameter_missing(details: str) -> GraphError:
    return GraphError(
        400,
        131008,
        "(#131008) Required parameter is missing",
        details=details,
        title="Required parameter is missing",
    )


def unknown_object(object_id: str, method: str) -> GraphError:
    # Graph cannot tell "no such object" from "your token may not see it", and says so in one message.
    return GraphError(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        error_type="GraphMethodException",
        subcode=33,
    )


def invalid_token() -> GraphError:
    return GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")


def rate_limit_hit() -> GraphError:
    return GraphError(
        400,
        130429,
        "(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
        title="Rate limit hit",
    )


def pair_rate_limit_hit() -> GraphError:
    return GraphError(
        400,
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        details="Too many messages sent from the sender phone number to the same recipient phone number "
        "in a short period of time.",
        title="(Business Account, Consumer Account) pair rate limit hit",
    )


def re_engagement_message() -> GraphError:
    return GraphError(
        400,
        131047,
        "(#131047) Re-engagement message",
        details="Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
        title="Re-engagement message",
    )


def marketing_limit_hit() -> GraphError:
    # Meta's per-user marketing limit, and how it refuses marketing templates to US numbers.
    return GraphError(
        400,
        131049,
        "(#131049) This message was not delivered to maintain healthy ecosystem engagement.",
        details="In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        title="This message was not delivered to maintain healthy ecosystem engagement.",
    )


def marketing_stopped() -> GraphError:
    return GraphError(
        400,
        131050,
        "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business",
        details="The user has stopped marketing messages from this business.",
        title="User has stopped marketing messages",
    )


def message_undeliverable() -> GraphError:
    return GraphError(
        400,
        131026,
        "(#131026) Message undeliverable",
        details="Unable to deliver message. Reasons can include: the recipient phone number is not a "
        "WhatsApp phone number; the recipient has not accepted the new Terms of Service.",
        title="Message undeliverable",
    )


def something_went_wrong() -> GraphError:
    return GraphError(
        500,
        131000,
        "(#131000) Something went wrong",
        details="An unknown error occurred",
        title="Something went wrong",
    )


def unexpected_error() -> GraphError:
    # Graph's own transient failure: no WhatsApp error_data, only is_transient.
    return GraphError(
        500,
        2,
        "An unexpected error has occurred. Please retry your request later.",
        is_transient=True,
        title="Service temporarily unavailable",
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(404, 2500, f"Unknown path components: {path}")


def body_too_large(size: int, limit: int) -> GraphError:
    return GraphError(413, 100, f"(#100) The request body of {size} bytes is over the {limit} byte limit")


# ---------------------------------------------------------------------------------------------------------
# The send request
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendRequest:
    """A message that passed validation: what the emulator needs to answer, record and report on."""

    to: str  # as the caller wrote it; Meta echoes it in contacts[].input
    wa_id: str  # digits only
    type: str
    biz_opaque_callback_data: str | None


@dataclass(frozen=True)
class ReadReceipt:
    """``{"status": "read", "message_id": ...}``: marks an inbound message read; not a message."""

    message_id: str


def parse_send_request(body: Any) -> SendRequest | ReadReceipt:
    """Validate a ``POST /messages`` body as Meta does; raise the :class:`GraphError` Meta would answer."""
    if not isinstance(body, dict):
        raise required_parameter("messaging_product")
    _check_messaging_product(body)
    if body.get("status") == "read":
        return _read_receipt(body)
    to = _recipient(body)
    message_type = _message_type(body)
    _check_type_object(body, message_type)
    _check_context(body.get("context"))
    return SendRequest(
        to=to,
        wa_id=to.lstrip("+"),
        type=message_type,
        biz_opaque_callback_data=_callback_data(body.get("biz_opaque_callback_data")),
    )


def _check_messaging_product(body: dict[str, Any]) -> None:
    product = body.get("messaging_product")
    if product is None:
        raise required_parameter("messaging_product")
    if product != "whatsapp":
        raise invalid_parameter(f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".')


def _read_receipt(body: dict[str, Any]) -> ReadReceipt:
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise required_parameter("message_id")
    return ReadReceipt(message_id=message_id)


def _recipient(body: dict[str, Any]) -> str:
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise invalid_parameter(
            f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{recipient_type}".'
        )
    to = body.get("to")
    if to is None or to == "":
        raise required_parameter("to")
    if not isinstance(to, str) or not _RECIPIENT.fullmatch(to):
        raise invalid_parameter(
            "Param to must be a phone number: up to 15 digits, with an optional leading +."
        )
    return to


def _message_type(body: dict[str, Any]) -> str:
    # Meta's reference: "type" is optional and defaults to "text".
    message_type = body.get("type", "text")
    if message_type not in MESSAGE_TYPES:
        allowed = ", ".join(sorted(t.upper() for t in MESSAGE_TYPES))
        raise invalid_parameter(f'Param type must be one of {{{allowed}}} - got "{message_type}".')
    return message_type


def _check_type_object(body: dict[str, Any], message_type: str) -> None:
    content = body.get(message_type)
    if not isinstance(content, dict | list) or not content:
        raise required_parameter(message_type)
    if message_type in MEDIA_TYPES:
        _check_media(message_type, content)
        return
    check = {
        "text": _check_text,
        "location": _check_location,
        "contacts": _check_contacts,
        "interactive": _check_interactive,
        "template": _check_template,
        "reaction": _check_reaction,
    }[message_type]
    check(content)


def _check_context(context: Any) -> None:
    if context is None:
        return
    if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
        raise required_parameter("context.message_id")


def _callback_data(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > BIZ_OPAQUE_CALLBACK_DATA_MAX:
        raise invalid_parameter(
            "Param biz_opaque_callback_data must be a string of at most "
            f"{BIZ_OPAQUE_CALLBACK_DATA_MAX} characters."
        )
    return value


# ---------------------------------------------------------------------------------------------------------
# Plain message types
# ---------------------------------------------------------------------------------------------------------


def _check_text(text: Any) -> None:
    if not isinstance(text, dict):
        raise required_parameter("text.body")
    body = text.get("body")
    if not isinstance(body, str) or not body:
        raise required_parameter("text.body")
    if len(body) > TEXT_BODY_MAX:
        raise invalid_parameter(f"Param text['body'] must be at most {TEXT_BODY_MAX} characters long.")
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise invalid_parameter("Param text['preview_url'] must be a boolean.")


def _check_media(media_type: str, media: Any) -> None:
    if not isinstance(media, dict):
        raise required_parameter(f"{media_type}.id")
    media_id, link = media.get("id"), media.get("link")
    if not media_id and not link:
        raise invalid_parameter(f"Param {media_type} must have either an id or a link.")
    if media_id is not None and not isinstance(media_id, str):
        raise invalid_parameter(f"Param {media_type}['id'] must be a string.")
    if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))):
        raise invalid_parameter(f"Param {media_type}['link'] must be a valid URL.")
    caption = media.get("caption")
    if caption is not None and (not isinstance(caption, str) or len(caption) > CAPTION_MAX):
        raise invalid_parameter(
            f"Param {media_type}['caption'] must be at most {CAPTION_MAX} characters long."
        )


def _check_location(location: Any) -> None:
    for name, bound in (("latitude", 90), ("longitude", 180)):
        value = location.get(name) if isinstance(location, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise required_parameter(f"location.{name}")
        if not -bound <= value <= bound:
            raise invalid_parameter(f"Param location['{name}'] must be between -{bound} and {bound}.")


def _check_contacts(contacts: Any) -> None:
    if not isinstance(contacts, list):
        raise invalid_parameter("Param contacts must be an array.")
    for contact in contacts:
        name = contact.get("name") if isinstance(contact, dict) else None
        if not isinstance(name, dict) or not name.get("formatted_name"):
            raise required_parameter("contacts[].name.formatted_name")


def _check_template(template: Any) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("name"), str) or not template["name"]:
        raise required_parameter("template.name")
    language = template.get("language")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str) or not language["code"]:
        raise required_parameter("template.language.code")
    if "components" in template and not isinstance(template["components"], list):
        raise invalid_parameter("Param template['components'] must be an array.")


def _check_reaction(reaction: Any) -> None:
    if not isinstance(reaction, dict) or not isinstance(reaction.get("message_id"), str):
        raise required_parameter("reaction.message_id")
    # An empty emoji is valid: it removes an earlier reaction.
    if not isinstance(reaction.get("emoji"), str):
        raise required_parameter("reaction.emoji")


# ---------------------------------------------------------------------------------------------------------
# Interactive messages
# ---------------------------------------------------------------------------------------------------------


def _check_interactive(interactive: Any) -> None:
    if not isinstance(interactive, dict):
        raise required_parameter("interactive.type")
    kind = interactive.get("type")
    if kind is None:
        raise required_parameter("interactive.type")
    if kind not in INTERACTIVE_TYPES:
        allowed = ", ".join(sorted(INTERACTIVE_TYPES))
        raise parameter_value_invalid(f"Interactive type must be one of {allowed}; got '{kind}'.")
    _check_body(interactive, required=kind != "product")
    _check_footer(interactive.get("footer"))
    _check_header(interactive.get("header"), text_only=kind in ("list", "product_list"))
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise required_parameter_missing("interactive.action is required.")
    check = _INTERACTIVE_ACTIONS.get(kind)
    if check is not None:
        check(interactive, action)


def _check_body(interactive: dict[str, Any], *, required: bool) -> None:
    body = interactive.get("body")
    if body is None:
        if required:
            raise required_parameter_missing("interactive.body is required.")
        return
    text = body.get("text") if isinstance(body, dict) else None
    _check_length("Body text", text, INTERACTIVE_BODY_MAX)


def _check_footer(footer: Any) -> None:
    if footer is None:
        return
    _check_length("Footer text", footer.get("text") if isinstance(footer, dict) else None, FOOTER_TEXT_MAX)


def _check_header(header: Any, *, text_only: bool) -> None:
    if header is None:
        return
    kind = header.get("type") if isinstance(header, dict) else None
    if kind not in ("text", "image", "video", "document"):
        raise parameter_value_invalid("Header type must be one of text, image, video, document.")
    if text_only and kind != "text":
        raise parameter_value_invalid("Header type must be text for list and product list messages.")
    if kind == "text":
        _check_length("Header text", header.get("text"), HEADER_TEXT_MAX)


def _check_length(what: str, value: Any, maximum: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= maximum:
        raise parameter_value_invalid(f"{what} length invalid. Min length: 1, Max length: {maximum}")


def _check_unique(what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise parameter_value_invalid(f"Duplicate {what} id '{value}'. Ids must be unique.")
        seen.add(value)


def _check_buttons(_interactive: dict[str, Any], action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= REPLY_BUTTONS_MAX:
        raise parameter_value_invalid(f"Buttons count invalid. Min: 1, Max: {REPLY_BUTTONS_MAX}")
    ids = []
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict) or button.get("type") != "reply":
            raise required_parameter_missing("Each button needs type 'reply' and a reply object.")
        _check_length("Button title", reply.get("title"), REPLY_BUTTON_TITLE_MAX)
        _check_length("Button id", reply.get("id"), REPLY_BUTTON_ID_MAX)
        ids.append(reply["id"])
    _check_unique("button", ids)


def _check_list(_interactive: dict[str, Any], action: dict[str, Any]) -> None:
    _check_length("Button label", action.get("button"), LIST_BUTTON_LABEL_MAX)
    sections = _sections(action)
    rows: list[dict[str, Any]] = []
    for section in sections:
        section_rows = section.get("rows")
        if not isinstance(section_rows, list) or not section_rows:
            raise required_parameter_missing("Each section needs at least one row.")
        rows.extend(row if isinstance(row, dict) else {} for row in section_rows)
    if len(rows) > LIST_ROWS_MAX:
        raise parameter_value_invalid(f"Total row count exceed max allowed count: {LIST_ROWS_MAX}")
    for row in rows:
        _check_length("Row title", row.get("title"), LIST_ROW_TITLE_MAX)
        _check_length("Row id", row.get("id"), LIST_ROW_ID_MAX)
        if "description" in row:
            _check_length("Row description", row["description"], LIST_ROW_DESCRIPTION_MAX)
    _check_unique("row", (row["id"] for row in rows))


def _check_product(_interactive: dict[str, Any], action: dict[str, Any]) -> None:
    for name in ("catalog_id", "product_retailer_id"):
        if not isinstance(action.get(name), str) or not action[name]:
            raise required_parameter_missing(f"action.{name} is required.")


def _check_product_list(interactive: dict[str, Any], action: dict[str, Any]) -> None:
    if interactive.get("header") is None:
        raise required_parameter_missing("Header is required for product_list messages.")
    if not isinstance(action.get("catalog_id"), str) or not action["catalog_id"]:
        raise required_parameter_missing("action.catalog_id is required.")
    items: list[Any] = []
    for section in _sections(action):
        section_items = section.get("product_items")
        if not isinstance(section_items, list) or not section_items:
            raise required_parameter_missing("Each section needs at least one product item.")
        items.extend(section_items)
    if len(items) > PRODUCT_LIST_ITEMS_MAX:
        raise parameter_value_invalid(
            f"Total product count exceed max allowed count: {PRODUCT_LIST_ITEMS_MAX}"
        )
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("product_retailer_id"), str):
            raise required_parameter_missing("product_items[].product_retailer_id is required.")


def _check_cta_url(_interactive: dict[str, Any], action: dict[str, Any]) -> None:
    parameters = action.get("parameters")
    if action.get("name") != "cta_url" or not isinstance(parameters, dict):
        raise required_parameter_missing("action.name 'cta_url' and action.parameters are required.")
    _check_length("Display text", parameters.get("display_text"), CTA_DISPLAY_TEXT_MAX)
    url = parameters.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise parameter_value_invalid("action.parameters.url must be an http(s) URL.")


def _order_amount(what: str, amount: Any, *, required: bool = True) -> int:
    if amount is None and not required:
        return 0
    if not isinstance(amount, dict) or "value" not in amount or "offset" not in amount:
        raise required_parameter_missing(f"{what} needs value and offset.")
    value, offset = amount["value"], amount["offset"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise parameter_value_invalid(f"{what}.value must be a non-negative integer.")
    if offset != ORDER_AMOUNT_OFFSET:
        raise parameter_value_invalid(f"{what}.offset must be {ORDER_AMOUNT_OFFSET}.")
    return value


def _check_order_details(_interactive: dict[str, Any], action: dict[str, Any]) -> None:
    parameters = action.get("parameters")
    if action.get("name") != "review_and_pay" or not isinstance(parameters, dict):
        raise required_parameter_missing("action.name 'review_and_pay' and action.parameters are required.")
    reference_id = parameters.get("reference_id")
    if not isinstance(reference_id, str) or not ORDER_REFERENCE_ID.fullmatch(reference_id):
        raise parameter_value_invalid("reference_id must be 1-35 characters of A-Z, a-z, 0-9, '_', '-', '.'.")
    if parameters.get("type") not in ("physical-goods", "digital-goods"):
        raise parameter_value_invalid("parameters.type must be physical-goods or digital-goods.")
    payment_type = parameters.get("payment_type")
    if payment_type not in ORDER_PAYMENT_CURRENCY:
        raise parameter_value_invalid("payment_type must be upi (India) or br (Brazil).")
    currency = ORDER_PAYMENT_CURRENCY[payment_type]
    if parameters.get("currency") != currency:
        raise parameter_value_invalid(f"currency must be {currency} for {payment_type}.")
    if payment_type == "upi" and not isinstance(parameters.get("payment_configuration"), str):
        raise required_parameter_missing("payment_configuration is required.")
    if payment_type == "br" and not parameters.get("payment_settings"):
        raise required_parameter_missing("payment_settings is required.")
    order = parameters.get("order")
    if not isinstance(order, dict) or order.get("status") != "pending":
        raise parameter_value_invalid("order.status must be pending in an order_details message.")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        raise required_parameter_missing("order.items is required.")
    subtotal = 0
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("retailer_id"), str):
            raise required_parameter_missing("order.items[].retailer_id is required.")
        _check_length("Item name", item.get("name"), ORDER_ITEM_NAME_MAX)
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise parameter_value_invalid("order.items[].quantity must be a positive integer.")
        amount = _order_amount("order.items[].amount", item.get("amount"))
        sale = _order_amount("order.items[].sale_amount", item.get("sale_amount"), required=False)
        if "sale_amount" in item and sale >= amount:
            raise parameter_value_invalid("order.items[].sale_amount must be less than amount.")
        subtotal += (sale if "sale_amount" in item else amount) * quantity
    if _order_amount("order.subtotal", order.get("subtotal")) != subtotal:
        raise parameter_value_invalid("order.subtotal must equal the items' amounts times their quantities.")
    total = (
        subtotal
        + _order_amount("order.tax", order.get("tax"))
        + _order_amount("order.shipping", order.get("shipping"), required=False)
        - _order_amount("order.discount", order.get("discount"), required=False)
    )
    if _order_amount("total_amount", parameters.get("total_amount")) != total:
        raise parameter_value_invalid("total_amount must equal subtotal + tax + shipping - discount.")


def _sections(action: dict[str, Any]) -> list[dict[str, Any]]:
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise required_parameter_missing("action.sections is required.")
    if len(sections) > LIST_SECTIONS_MAX:
        raise parameter_value_invalid(f"Sections count invalid. Min: 1, Max: {LIST_SECTIONS_MAX}")
    if not all(isinstance(section, dict) for section in sections):
        raise parameter_value_invalid("Each section must be an object.")
    for section in sections:
        if "title" in section or len(sections) > 1:
            if "title" not in section:
                raise required_parameter_missing(
                    "Section title is required when there is more than one section."
                )
            _check_length("Section title", section["title"], SECTION_TITLE_MAX)
    return sections


_INTERACTIVE_ACTIONS = {
    "button": _check_buttons,
    "list": _check_list,
    "product": _check_product,
    "product_list": _check_product_list,
    "cta_url": _check_cta_url,
    "order_details": _check_order_details,
}


def new_fbtrace_id() -> str:
    # Meta's trace ids are 23 URL-safe characters, e.g. "AauRgAP8m_ImekhgAZPeC7d".
    return secrets.token_urlsafe(18)[:23]
