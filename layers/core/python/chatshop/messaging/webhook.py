"""Meta's WhatsApp webhook at the door: signature, GET handshake, and one queue unit per event.

Pure functions, no I/O. The webhook function verifies the signature over the raw bytes, splits the
body with :func:`split_webhook` and sends every :class:`InboundUnit` to the inbound FIFO queue
(``MessageGroupId=group_id``, ``MessageDeduplicationId=dedup_id``); a worker parses each unit later
(:mod:`chatshop.messaging.inbound`). Nothing here logs, and no error message quotes the body, since
bodies hold customers' phone numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SIGNATURE_HEADER = "X-Hub-Signature-256"
WEBHOOK_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
# A customer's marketing preference ("Stop promotions" in WhatsApp, and "resume").
PREFERENCES_FIELD = "user_preferences"

_SIGNATURE_PREFIX = "sha256="
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
# SQS MessageGroupId and MessageDeduplicationId: 1 to 128 characters, each a letter, a digit or
# ASCII punctuation, that is every printable ASCII character but the space (0x21-0x7E).
_SQS_ID = re.compile(r"[!-~]{1,128}")

UnitKind = Literal["message", "status", "preference", "unknown"]


class WebhookFormatError(ValueError):
    """The body is not a WhatsApp webhook at all: not UTF-8 JSON, another ``object``, no ``entry`` list."""


def verify_signature(raw_body: bytes, header_value: str | None, app_secret: str) -> bool:
    """True when ``header_value`` is ``sha256=<hex>`` of HMAC-SHA256(app secret, the exact raw bytes).

    Call it before parsing anything: a re-serialised body (escapes, key order) has another digest.
    """
    # An empty secret would let anyone who guesses the misconfiguration sign bodies: refuse it.
    if not app_secret or not header_value:
        return False
    claimed = _claimed_digest(header_value)
    if claimed is None:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, claimed)


def _claimed_digest(header_value: str) -> bytes | None:
    value = header_value.strip()
    if not value.startswith(_SIGNATURE_PREFIX):
        return None
    hex_digest = value[len(_SIGNATURE_PREFIX) :]
    # fullmatch: the length and alphabet are fixed, so a malformed header never reaches the compare.
    if _SHA256_HEX.fullmatch(hex_digest) is None:
        return None
    return bytes.fromhex(hex_digest)


def handshake_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """Meta's GET subscription check: the ``hub.challenge`` to echo back, or None to refuse (403)."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if not isinstance(token, str) or not isinstance(challenge, str) or not challenge:
        return None
    # Bytes, because compare_digest refuses str with non-ASCII characters.
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge


@dataclass(frozen=True, slots=True)
class InboundUnit:
    """One event of a webhook, ready to be one SQS FIFO message.

    ``body`` is self-contained, so the worker never needs the rest of the webhook::

        {"kind", "waba_id", "phone_number_id", "display_phone_number", "contacts",
         "message" | "status" | "value", ["errors"], ["field"]}

    ``errors`` is the change's own ``value.errors`` (Meta puts some message errors there, for
    instance 131000 next to an ``interactive`` without its body); ``field`` is on unknown units.
    """

    kind: UnitKind
    phone_number_id: str
    customer: str
    dedup_id: str
    group_id: str
    body: dict[str, Any]


def split_webhook(raw_body: bytes) -> list[InboundUnit]:
    """Every message and every status of every change of every entry, each as its own unit.

    A change this code does not understand (another ``field``, a value with neither ``messages``
    nor ``statuses``, a malformed list) becomes one ``unknown`` unit carrying it whole: never dropped.
    Raises :class:`WebhookFormatError` only when the body as a whole is not a WhatsApp webhook.
    """
    document = _parse_document(raw_body)
    units: list[InboundUnit] = []
    for entry in document["entry"]:
        units.extend(_entry_units(entry))
    return units


def _parse_document(raw_body: bytes) -> dict[str, Any]:
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookFormatError("the body is not UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        # Only the position, never an excerpt: the body holds phone numbers.
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise WebhookFormatError(f"the body is not valid JSON{where}") from None
    if not isinstance(document, dict):
        raise WebhookFormatError("the body is not a JSON object")
    if document.get("object") != WEBHOOK_OBJECT:
        raise WebhookFormatError(f'"object" is not "{WEBHOOK_OBJECT}"')
    if not isinstance(document.get("entry"), list):
        raise WebhookFormatError('"entry" is not a list')
    return document


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python accepts them by default, and json.dumps would echo them.
    raise ValueError(f"{name} is not JSON")


def _entry_units(entry: Any) -> list[InboundUnit]:
    if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
        return [_unknown_unit(value=entry, field="", waba_id="")]
    waba_id = _text(entry.get("id"))
    units: list[InboundUnit] = []
    for change in entry["changes"]:
        units.extend(_change_units(change, waba_id))
    return units


def _change_units(change: Any, waba_id: str) -> list[InboundUnit]:
    if not isinstance(change, dict):
        return [_unknown_unit(value=change, field="", waba_id=waba_id)]
    field = _text(change.get("field"))
    value = change.get("value")
    if field == PREFERENCES_FIELD and isinstance(value, dict) and isinstance(value.get(field), list):
        return [_preference_unit(item, value, waba_id) for item in value[field]]
    if field != MESSAGES_FIELD or not _has_events(value):
        return [_unknown_unit(value=value, field=field, waba_id=waba_id)]
    units = [_item_unit("message", item, value, waba_id) for item in value.get("messages") or []]
    units += [_item_unit("status", item, value, waba_id) for item in value.get("statuses") or []]
    return units


def _has_events(value: Any) -> bool:
    """True for a value whose messages and statuses are lists (or absent), not both empty."""
    if not isinstance(value, dict):
        return False
    messages, statuses = value.get("messages"), value.get("statuses")
    if not isinstance(messages, list | None) or not isinstance(statuses, list | None):
        return False
    return bool(messages or statuses)


def _item_unit(kind: Literal["message", "status"], item: Any, value: dict, waba_id: str) -> InboundUnit:
    if not isinstance(item, dict):
        return _unknown_unit(value=item, field=MESSAGES_FIELD, waba_id=waba_id, change_value=value)
    contacts = _contacts(value)
    customer = message_customer(item, contacts) if kind == "message" else status_customer(item)
    body: dict[str, Any] = {
        "kind": kind,
        "waba_id": waba_id,
        **_metadata(value),
        "contacts": contacts_of(customer, contacts),
        kind: item,
    }
    if isinstance(value.get("errors"), list):
        body["errors"] = value["errors"]
    return _unit(kind, body, customer, _event_id(kind, item))


def _preference_unit(item: Any, value: dict, waba_id: str) -> InboundUnit:
    """One customer's preference, in their conversation's group (so it is applied in order with
    what they write); Meta gives it no id, so its content deduplicates it."""
    if not isinstance(item, dict):
        return _unknown_unit(value=item, field=PREFERENCES_FIELD, waba_id=waba_id, change_value=value)
    contacts = _contacts(value)
    customer = _text(item.get("wa_id")) or _text(item.get("user_id"))
    body: dict[str, Any] = {
        "kind": "preference",
        "waba_id": waba_id,
        **_metadata(value),
        "contacts": contacts_of(customer, contacts),
        "preference": item,
    }
    return _unit("preference", body, customer, event_id="")


def _event_id(kind: Literal["message", "status"], item: dict) -> str:
    """Meta's id of the event; a status repeats its message's id, so its state makes it distinct."""
    message_id = _text(item.get("id"))
    if not message_id:
        return ""
    if kind == "status":
        return f"{message_id}:{_text(item.get('status'))}"
    return message_id


def _unknown_unit(value: Any, field: str, waba_id: str, change_value: Any = None) -> InboundUnit:
    # Metadata and contacts come from the change's value when there is one around the item.
    around = change_value if change_value is not None else value
    contacts = _contacts(around)
    body: dict[str, Any] = {
        "kind": "unknown",
        "waba_id": waba_id,
        **_metadata(around),
        "contacts": contacts,
        "field": field,
        "value": value,
    }
    return _unit("unknown", body, customer="", event_id="")


def _unit(kind: UnitKind, body: dict[str, Any], customer: str, event_id: str) -> InboundUnit:
    phone_number_id = body["phone_number_id"]
    # Without Meta's id (unknown units, an id-less item) the content itself is the identity.
    dedup_source = event_id or hashlib.sha256(canonical_json(body).encode("ascii")).hexdigest()
    return InboundUnit(
        kind=kind,
        phone_number_id=phone_number_id,
        customer=customer,
        dedup_id=sqs_safe_id(dedup_source),
        group_id=sqs_safe_id(f"{phone_number_id}:{customer}"),
        body=body,
    )


def _metadata(value: Any) -> dict[str, str]:
    metadata = value.get("metadata") if isinstance(value, dict) else None
    if not isinstance(metadata, dict):
        metadata = {}
    return {
        "phone_number_id": _text(metadata.get("phone_number_id")),
        "display_phone_number": _text(metadata.get("display_phone_number")),
    }


def _contacts(value: Any) -> list[dict[str, Any]]:
    contacts = value.get("contacts") if isinstance(value, dict) else None
    if not isinstance(contacts, list):
        return []
    return [contact for contact in contacts if isinstance(contact, dict)]


def contacts_of(customer: str, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contacts that are ``customer`` (by wa_id or BSUID), else all of them.

    A change that batches several customers lists them all in ``contacts``; a unit is one
    conversation, so it carries only its own customer's profile when it can be told apart.
    """
    own = [c for c in contacts if customer and customer in (_text(c.get("wa_id")), _text(c.get("user_id")))]
    return own or list(contacts)


def message_customer(message: dict[str, Any], contacts: list[dict[str, Any]]) -> str:
    """The sender: ``from`` (phone number), else the business-scoped user id, else the first contact.

    Meta omits ``from`` for users who hid their number behind a username and sends their BSUID as
    ``from_user_id`` (``user_id`` is accepted as well); ``contacts`` is the last resort.
    """
    for key in ("from", "from_user_id", "user_id"):
        if customer := _text(message.get(key)):
            return customer
    first = contacts[0] if contacts else {}
    return _text(first.get("wa_id")) or _text(first.get("user_id"))


def status_customer(status: dict[str, Any]) -> str:
    """The recipient of our message: ``recipient_id`` (phone number), else ``recipient_user_id`` (BSUID)."""
    return _text(status.get("recipient_id")) or _text(status.get("recipient_user_id"))


def sqs_safe_id(value: str) -> str:
    """``value`` if SQS takes it as a group or deduplication id, else its SHA-256 in hex.

    The hash keeps the mapping stable (the same conversation always lands in the same group, the
    same event always deduplicates) while fitting SQS's 128 printable-ASCII characters.
    """
    if _SQS_ID.fullmatch(value):
        return value
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value (sorted keys, no spaces, ASCII), so equal content hashes equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _text(value: Any) -> str:
    """Meta's ids as text: they come as strings, but a number is accepted too; anything else is ''."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""
