"""A webhook unit as a typed domain model: messages, statuses, and whatever we cannot read (kept)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from itertools import permutations
from typing import Any

import pytest

from chatshop.messaging.inbound import (
    STATUS_RANK,
    InboundMessage,
    MetaError,
    StatusUpdate,
    UnparsedPayload,
    advances,
    parse_unit,
)
from chatshop.messaging.webhook import split_webhook
from tests.conftest import WHATSAPP_FIXTURES

FIXTURES = WHATSAPP_FIXTURES

PNID = "1122334455667"
CUSTOMER = "972987654321"
BSUID = "US.13491208655302741918"


def unit_body(name: str) -> dict[str, Any]:
    (unit,) = split_webhook((FIXTURES / name).read_bytes())
    return unit.body


def message_of(name: str) -> InboundMessage:
    parsed = parse_unit(unit_body(name))
    assert isinstance(parsed, InboundMessage), parsed
    return parsed


def status_of(name: str) -> StatusUpdate:
    parsed = parse_unit(unit_body(name))
    assert isinstance(parsed, StatusUpdate), parsed
    return parsed


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def message_body(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "phone_number_id": PNID,
        "display_phone_number": "15550001111",
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}],
        "message": message,
        **extra,
    }


# --- every fixture --------------------------------------------------------------------------------

# name -> (model, id, timestamp, type or status)
EXPECTED = {
    "pywa__button_quick_reply.json": (InboundMessage, "wamid.xsidjw", 1698269027, "button"),
    "pywa__button_quick_reply_no_context_bsuid.json": (InboundMessage, "wamid.xsidjx", 1698269027, "button"),
    "pywa__image.json": (InboundMessage, "wamid.xyzxyz", 1697043379, "image"),
    "pywa__image_with_url.json": (InboundMessage, "wamid.xyzxyz", 1697043379, "image"),
    "pywa__interactive_button_reply.json": (InboundMessage, "wamid.xyzxyz", 1698266730, "interactive"),
    "pywa__interactive_list_reply.json": (InboundMessage, "wamid.zyzxyz", 1698266905, "interactive"),
    "pywa__interactive_missing_body.json": (
        InboundMessage,
        "wamid.wegrchytvwcggt=",
        1700505494,
        "interactive",
    ),
    "pywa__location_forwarded.json": (InboundMessage, "wamid.xyzxyz", 1697044557, "location"),
    "pywa__order.json": (InboundMessage, "wamid.xyzxyz", 1697044668, "order"),
    "pywa__reaction.json": (InboundMessage, "wamid.xyzxyz", 1697044456, "reaction"),
    "pywa__status_delivered.json": (StatusUpdate, "wamid.xyzxyz", 1698266945, "delivered"),
    "pywa__status_failed.json": (StatusUpdate, "wamid.xyzxyz", 1689380458, "failed"),
    "pywa__status_read.json": (StatusUpdate, "wamid.xyzxyz", 1689380458, "read"),
    "pywa__status_sent.json": (StatusUpdate, "wamid.xyzxyz", 1698266945, "sent"),
    "pywa__status_with_tracker.json": (StatusUpdate, "wamid.xyzxyz", 1698266945, "sent"),
    "pywa__text.json": (InboundMessage, "wamid.xyzxyz", 1697043223, "text"),
    "pywa__text_reply_context.json": (InboundMessage, "wamid.xyzxyz", 1697044746, "text"),
    "pywa__text_with_ctwa_referral.json": (InboundMessage, "wamid.ID", 1697045000, "text"),
    "pywa__unsupported.json": (InboundMessage, "wamid.xyzxyz", 1697044706, "unsupported"),
}


def test_every_fixture_has_expectations():
    # No skip: a missing fixture folder fails here (and in every case below).
    assert FIXTURES.is_dir(), f"missing fixtures folder {FIXTURES}"
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_parses_into_its_model(name):
    model, item_id, seconds, kind = EXPECTED[name]

    parsed = parse_unit(unit_body(name))

    assert type(parsed) is model
    assert parsed.phone_number_id == PNID
    assert parsed.customer == CUSTOMER
    assert parsed.timestamp == at(seconds)
    assert parsed.timestamp.utcoffset().total_seconds() == 0
    if isinstance(parsed, InboundMessage):
        assert (parsed.id, parsed.type) == (item_id, kind)
        assert parsed.customer_name == "Test Name"
        assert parsed.customer_user_id == BSUID
    else:
        assert (parsed.message_id, parsed.status) == (item_id, kind)


def test_text():
    message = message_of("pywa__text.json")

    assert message.text == "Body Text"
    assert (message.media, message.button, message.context, message.errors) == (None, None, None, [])


def test_text_replying_to_a_message():
    message = message_of("pywa__text_reply_context.json")

    assert message.text == "replied text"
    assert message.context is not None
    assert (message.context.from_, message.context.id) == ("972123456789", "wamid.xyzxyz==")
    assert not message.context.forwarded


def test_text_from_a_click_to_whatsapp_ad_keeps_the_referral():
    message = message_of("pywa__text_with_ctwa_referral.json")

    assert message.text == "BODY"
    assert message.referral is not None
    assert message.referral.source_id == "ADID"
    assert message.referral.source_type == "ad or post"
    assert message.referral.source_url == "AD_OR_POST_FB_URL"
    assert (message.referral.headline, message.referral.body) == ("AD_TITLE", "AD_DESCRIPTION")
    assert message.referral.ctwa_clid == "CTWA_CLID"


@pytest.mark.parametrize(
    "name, url",
    [
        ("pywa__image.json", None),
        (
            "pywa__image_with_url.json",
            "https://lookaside.fbsbx.com/whatsapp_business/attachments/"
            "?mid=65463453&source=webhook&ext=487r9re&hash=heiwchueowbcew-dnedcw",
        ),
    ],
)
def test_an_image(name, url):
    message = message_of(name)

    assert message.media is not None
    assert (message.media.id, message.media.mime_type, message.media.sha256) == (
        "65463453",
        "image/jpeg",
        "4654+8g=",
    )
    assert message.media.url == url


def test_an_order_keeps_prices_exact():
    message = message_of("pywa__order.json")

    assert message.order is not None
    assert message.order.catalog_id == "354160437058781"
    assert message.order.text == ""
    assert [(i.product_retailer_id, i.quantity, i.item_price, i.currency) for i in message.order.items] == [
        ("HAMBURGER", 3, Decimal("30"), "ILS"),
        ("FRENCH_FRIES", 2, Decimal("35"), "ILS"),
        ("SODA", 2, Decimal("10"), "ILS"),
    ]


def test_a_forwarded_location():
    message = message_of("pywa__location_forwarded.json")

    assert message.location is not None
    assert (message.location.latitude, message.location.longitude) == (12.25089, 43.90539)
    assert message.context is not None and message.context.forwarded
    assert message.context.id is None


def test_a_reaction_with_its_emoji_decoded():
    message = message_of("pywa__reaction.json")

    assert message.reaction is not None
    assert (message.reaction.message_id, message.reaction.emoji) == ("wamid.yzxyzx=", "\U0001f62e")


def test_a_removed_reaction_has_no_emoji():
    body = message_body(
        {
            "from": CUSTOMER,
            "id": "wamid.R",
            "timestamp": "1700000000",
            "type": "reaction",
            "reaction": {"message_id": "wamid.Q"},
        }
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert message.reaction is not None
    assert (message.reaction.message_id, message.reaction.emoji) == ("wamid.Q", None)


def test_an_unsupported_message_carries_its_error():
    message = message_of("pywa__unsupported.json")

    assert message.errors == [
        MetaError(
            code=131051,
            title="Message type unknown",
            message="Message type unknown",
            details="Message type is currently not supported.",
        )
    ]


def test_an_interactive_message_without_its_body_carries_the_change_error():
    message = message_of("pywa__interactive_missing_body.json")

    assert message.button is None and message.interactive_type is None
    assert message.context is not None and message.context.id == "wamid.gvwegfretge=="
    assert [(e.code, e.details) for e in message.errors] == [(131000, "Unsupported webhook payload")]


@pytest.mark.parametrize(
    "name, kind, reply_id, title, description",
    [
        ("pywa__button_quick_reply.json", "button", "callback_data", "title", None),
        ("pywa__button_quick_reply_no_context_bsuid.json", "button", "callback_data", "title", None),
        ("pywa__interactive_button_reply.json", "button_reply", "callback_data", "title", None),
        ("pywa__interactive_list_reply.json", "list_reply", "callback_data", "title", "description"),
    ],
)
def test_a_choice_is_a_reply(name, kind, reply_id, title, description):
    message = message_of(name)

    assert message.button is not None
    assert (message.button.kind, message.button.id, message.button.title) == (kind, reply_id, title)
    assert message.button.description == description


def test_a_quick_reply_keeps_the_template_it_answers():
    message = message_of("pywa__button_quick_reply.json")

    assert message.context is not None
    assert (message.context.from_, message.context.id) == ("972123456789", "wamid.xyzxyz==")


def test_a_product_enquiry_keeps_the_referred_product():
    context = {
        "from": "15550001111",
        "id": "wamid.P",
        "referred_product": {"catalog_id": 42, "product_retailer_id": "SKU-1"},
    }
    body = message_body(
        {
            "from": CUSTOMER,
            "id": "wamid.E",
            "timestamp": "1700000000",
            "type": "text",
            "text": {"body": "?"},
            "context": context,
        }
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert message.context is not None and message.context.referred_product is not None
    assert (
        message.context.referred_product.catalog_id,
        message.context.referred_product.product_retailer_id,
    ) == (
        "42",
        "SKU-1",
    )


def test_a_system_message_keeps_its_system_object():
    system = {"body": "User changed number", "wa_id": "15550009999", "type": "user_changed_number"}
    body = message_body(
        {"from": CUSTOMER, "id": "wamid.S", "timestamp": "1700000000", "type": "system", "system": system}
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert message.system == system


# --- statuses -------------------------------------------------------------------------------------


def test_a_delivered_status_with_conversation_and_pricing():
    status = status_of("pywa__status_delivered.json")

    assert status.conversation_id == "7270432eae37498234f4444b35ffc5"
    assert status.pricing_category == "service"
    assert (status.errors, status.callback_data) == ([], None)
    assert status.customer_user_id == BSUID  # from the contact that matches the recipient


def test_a_failed_status_carries_code_title_message_and_details():
    status = status_of("pywa__status_failed.json")

    assert status.errors == [
        MetaError(
            code=130472,
            title="User's number is part of an experiment",
            message="User's number is part of an experiment",
            details="Failed to send message because this user's phone number is part of an experiment",
        )
    ]
    assert (status.conversation_id, status.pricing_category) == (None, None)


def test_a_status_keeps_the_callback_data_we_sent():
    assert status_of("pywa__status_with_tracker.json").callback_data == "some data"
    assert status_of("pywa__status_sent.json").callback_data is None


def test_a_status_to_a_username_customer_uses_recipient_user_id():
    body = unit_body("pywa__status_read.json")
    del body["status"]["recipient_id"]
    body["status"]["recipient_user_id"] = BSUID

    status = parse_unit(body)

    assert isinstance(status, StatusUpdate)
    assert (status.customer, status.customer_user_id) == (BSUID, BSUID)


@pytest.mark.parametrize("name", ["deleted", "warning"])
def test_statuses_of_the_older_api_are_accepted(name):
    body = unit_body("pywa__status_sent.json")
    body["status"]["status"] = name

    status = parse_unit(body)

    assert isinstance(status, StatusUpdate) and status.status == name


def test_an_unknown_status_is_kept_unparsed():
    body = unit_body("pywa__status_sent.json")
    body["status"]["status"] = "played"

    parsed = parse_unit(body)

    assert isinstance(parsed, UnparsedPayload)
    assert parsed.body == body
    assert "status" in parsed.reason


# --- tolerance ------------------------------------------------------------------------------------


def test_a_message_without_from_uses_the_business_scoped_user_id():
    body = unit_body("pywa__button_quick_reply_no_context_bsuid.json")
    del body["message"]["from"]
    del body["contacts"][0]["wa_id"]

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert (message.customer, message.customer_user_id, message.customer_name) == (BSUID, BSUID, "Test Name")


def test_numbers_as_strings_and_ids_as_numbers_are_coerced():
    order = {
        "catalog_id": 354160437058781,
        "product_items": [
            {"product_retailer_id": 7, "quantity": "3", "item_price": "30.50", "currency": "ILS"},
            {"product_retailer_id": "B", "quantity": 1, "item_price": 12.99, "currency": "ILS"},
        ],
    }
    body = message_body(
        {"from": 972987654321, "id": "wamid.O", "timestamp": 1697044668, "type": "order", "order": order},
        phone_number_id=1122334455667,
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert (message.customer, message.phone_number_id, message.timestamp) == (CUSTOMER, PNID, at(1697044668))
    assert message.order is not None
    assert message.order.catalog_id == "354160437058781"
    assert [(i.product_retailer_id, i.quantity, i.item_price) for i in message.order.items] == [
        ("7", 3, Decimal("30.50")),
        ("B", 1, Decimal("12.99")),
    ]


def test_a_location_sent_as_strings_with_name_and_address():
    location = {"latitude": "-33.8688", "longitude": "151.2093", "name": "Shop", "address": "1 George St"}
    body = message_body(
        {
            "from": CUSTOMER,
            "id": "wamid.L",
            "timestamp": "1700000000",
            "type": "location",
            "location": location,
        }
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage) and message.location is not None
    assert (message.location.latitude, message.location.longitude) == (-33.8688, 151.2093)
    assert (message.location.name, message.location.address) == ("Shop", "1 George St")


def test_an_error_code_sent_as_a_string_is_a_number():
    body = unit_body("pywa__status_failed.json")
    body["status"]["errors"][0]["code"] = "130472"

    status = parse_unit(body)

    assert isinstance(status, StatusUpdate)
    assert status.errors[0].code == 130472


@pytest.mark.parametrize("media_type", ["video", "audio", "document", "sticker"])
def test_every_media_type_is_media(media_type):
    media = {
        "id": "m1",
        "mime_type": "application/pdf",
        "sha256": "abc=",
        "caption": "c",
        "filename": "f.pdf",
    }
    body = message_body(
        {"from": CUSTOMER, "id": "wamid.V", "timestamp": "1700000000", "type": media_type, media_type: media}
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage) and message.media is not None
    assert (message.media.id, message.media.caption) == ("m1", "c")


def test_fields_meta_adds_are_ignored():
    body = unit_body("pywa__text.json")
    body["message"]["brand_new_field"] = {"anything": 1}
    body["message"]["text"]["also_new"] = True

    assert isinstance(parse_unit(body), InboundMessage)


def test_a_flow_reply_keeps_its_interactive_type():
    interactive = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "response_json": "{}", "body": "Sent"}}
    body = message_body(
        {
            "from": CUSTOMER,
            "id": "wamid.F",
            "timestamp": "1700000000",
            "type": "interactive",
            "interactive": interactive,
        }
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage)
    assert (message.button, message.interactive_type) == (None, "nfm_reply")


def test_the_name_is_the_matching_contact_s_not_another_customer_s():
    contacts = [
        {"profile": {"name": "Bob"}, "wa_id": "15551234567"},
        {"profile": {"name": "Ann"}, "wa_id": CUSTOMER},
    ]
    body = message_body(
        {"from": CUSTOMER, "id": "wamid.T", "timestamp": "1700000000", "type": "text", "text": {"body": "x"}},
        contacts=contacts,
    )

    message = parse_unit(body)

    assert isinstance(message, InboundMessage) and message.customer_name == "Ann"


def test_models_are_frozen():
    message = message_of("pywa__text.json")

    with pytest.raises(ValueError):
        message.text = "changed"  # type: ignore[misc]


# --- what cannot be parsed is kept ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["message"].pop("id"),
        lambda b: b["message"].pop("timestamp"),
        lambda b: b["message"].__setitem__("timestamp", "yesterday"),
        lambda b: b["message"].pop("from") and b.__setitem__("contacts", []),
        lambda b: b.__setitem__("phone_number_id", ""),
        lambda b: b["message"].__setitem__("type", "image") or b["message"].__setitem__("image", "x"),
        lambda b: b["message"].__setitem__("type", "order") or b["message"].__setitem__("order", {"x": 1}),
        lambda b: b.__setitem__("message", "not an object"),
        lambda b: b.__setitem__("kind", "something-else"),
    ],
    ids=[
        "no-id",
        "no-timestamp",
        "bad-timestamp",
        "bad-from",
        "no-number",
        "bad-text",
        "bad-order",
        "bad-message",
        "bad-kind",
    ],
)
def test_a_message_that_cannot_be_read_is_kept_with_a_reason(change):
    body = unit_body("pywa__text.json")
    change(body)

    parsed = parse_unit(body)

    assert isinstance(parsed, UnparsedPayload)
    assert parsed.body == body
    assert parsed.reason
    # The reason names fields, never values: no phone number in logs.
    assert CUSTOMER not in parsed.reason and PNID not in parsed.reason


def test_an_unknown_unit_is_kept_with_its_field():
    (unit,) = split_webhook(
        json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"event": "X"}}]}],
            }
        ).encode()
    )

    parsed = parse_unit(unit.body)

    assert isinstance(parsed, UnparsedPayload)
    assert "account_update" in parsed.reason
    assert parsed.body["value"] == {"event": "X"}


@pytest.mark.parametrize("body", [None, [], "text", 42])
def test_a_body_that_is_not_an_object_is_kept(body):
    parsed = parse_unit(body)  # type: ignore[arg-type]

    assert isinstance(parsed, UnparsedPayload)
    assert parsed.body == {"value": body}


def test_parsing_does_not_change_the_body():
    body = unit_body("pywa__order.json")
    before = copy.deepcopy(body)

    parse_unit(body)

    assert body == before


# --- status ordering ------------------------------------------------------------------------------


def test_the_rank_is_sent_delivered_read():
    assert STATUS_RANK == {"sent": 1, "delivered": 2, "read": 3}


@pytest.mark.parametrize(
    "current, new, expected",
    [
        (None, "sent", True),
        (None, "delivered", True),
        (None, "read", True),
        (None, "failed", True),
        ("sent", "delivered", True),
        ("sent", "read", True),
        ("delivered", "read", True),
        ("sent", "sent", False),
        ("delivered", "sent", False),
        ("read", "delivered", False),  # a late "delivered" never overwrites "read"
        ("read", "sent", False),
        ("sent", "failed", True),
        ("delivered", "failed", True),
        ("read", "failed", True),  # a failure is recorded even after a read
        ("failed", "failed", False),  # a repeat is no change
        ("failed", "sent", False),
        ("failed", "delivered", False),
        ("failed", "read", False),  # nothing moves a failed message back
        (None, "deleted", False),  # off the ladder: an event, not a state
        ("sent", "warning", False),
        ("sent", "played", False),
        ("deleted", "delivered", True),
    ],
)
def test_advances(current, new, expected):
    assert advances(current, new) is expected


def test_the_final_state_does_not_depend_on_arrival_order():
    for events in permutations(["sent", "delivered", "read", "failed"]):
        state = None
        for event in events:
            if advances(state, event):
                state = event
        assert state == "failed"
    for events in permutations(["sent", "delivered", "read"]):
        state = None
        for event in events:
            if advances(state, event):
                state = event
        assert state == "read"
