"""The webhook's door: signature over the raw bytes, Meta's GET handshake, one unit per event."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re

import pytest

from chatshop.messaging.webhook import (
    SIGNATURE_HEADER,
    InboundUnit,
    WebhookFormatError,
    handshake_challenge,
    split_webhook,
    verify_signature,
)
from tests.conftest import WHATSAPP_FIXTURES

FIXTURES = WHATSAPP_FIXTURES

SECRET = "app-secret-for-tests"
PNID = "1122334455667"
CUSTOMER = "972987654321"
GROUP = f"{PNID}:{CUSTOMER}"
SQS_ID = re.compile(r"[!-~]{1,128}")

# Every fixture: (kind, dedup id) of each unit it splits into; all are from CUSTOMER to PNID.
EXPECTED_UNITS = {
    "pywa__button_quick_reply.json": [("message", "wamid.xsidjw")],
    "pywa__button_quick_reply_no_context_bsuid.json": [("message", "wamid.xsidjx")],
    "pywa__image.json": [("message", "wamid.xyzxyz")],
    "pywa__image_with_url.json": [("message", "wamid.xyzxyz")],
    "pywa__interactive_button_reply.json": [("message", "wamid.xyzxyz")],
    "pywa__interactive_list_reply.json": [("message", "wamid.zyzxyz")],
    "pywa__interactive_missing_body.json": [("message", "wamid.wegrchytvwcggt=")],
    "pywa__location_forwarded.json": [("message", "wamid.xyzxyz")],
    "pywa__order.json": [("message", "wamid.xyzxyz")],
    "pywa__reaction.json": [("message", "wamid.xyzxyz")],
    "pywa__status_delivered.json": [("status", "wamid.xyzxyz:delivered")],
    "pywa__status_failed.json": [("status", "wamid.xyzxyz:failed")],
    "pywa__status_read.json": [("status", "wamid.xyzxyz:read")],
    "pywa__status_sent.json": [("status", "wamid.xyzxyz:sent")],
    "pywa__status_with_tracker.json": [("status", "wamid.xyzxyz:sent")],
    "pywa__text.json": [("message", "wamid.xyzxyz")],
    "pywa__text_reply_context.json": [("message", "wamid.xyzxyz")],
    "pywa__text_with_ctwa_referral.json": [("message", "wamid.ID")],
    "pywa__unsupported.json": [("message", "wamid.xyzxyz")],
}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def sign(body: bytes, secret: str = SECRET) -> str:
    # The reference: Meta's documented recipe, written out independently of the code under test.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def as_bytes(document: dict) -> bytes:
    return json.dumps(document).encode()


def webhook(*changes: dict, entries: int = 1) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": f"waba-{i}", "changes": list(changes)} for i in range(entries)],
    }


def messages_change(*messages: dict, pnid: str = PNID, contacts: list | None = None, **extra) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": pnid},
        "contacts": contacts if contacts is not None else [{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}],
        "messages": list(messages),
        **extra,
    }
    return {"field": "messages", "value": value}


def text_message(message_id: str, sender: str = CUSTOMER, body: str = "hi") -> dict:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": body},
    }


# --- the fixtures ---------------------------------------------------------------------------------


def test_the_fixture_folder_is_there_and_every_file_has_expectations():
    # No skip: without the fixtures this suite would prove nothing, so it fails instead.
    assert FIXTURES.is_dir(), f"missing fixtures folder {FIXTURES}"
    assert sorted(p.name for p in FIXTURES.glob("*.json")) == sorted(EXPECTED_UNITS)


@pytest.mark.parametrize("name", sorted(EXPECTED_UNITS))
def test_every_fixture_splits_into_its_units(name):
    units = split_webhook(fixture_bytes(name))

    assert [(u.kind, u.dedup_id) for u in units] == EXPECTED_UNITS[name]
    for unit in units:
        assert unit.phone_number_id == PNID
        assert unit.customer == CUSTOMER
        assert unit.group_id == GROUP
        assert unit.body["phone_number_id"] == PNID
        assert unit.body["display_phone_number"] == "972123456789"
        assert unit.body["kind"] == unit.kind
        assert [c["wa_id"] for c in unit.body["contacts"]] == [CUSTOMER]
        # Self-contained and queueable: the body survives a JSON round trip unchanged.
        assert json.loads(json.dumps(unit.body)) == unit.body


@pytest.mark.parametrize("name", sorted(EXPECTED_UNITS))
def test_a_fixture_verifies_over_its_exact_bytes(name):
    body = fixture_bytes(name)

    assert verify_signature(body, sign(body), SECRET)


def test_a_unit_carries_its_single_item_and_the_change_errors():
    document = fixture_json("pywa__interactive_missing_body.json")

    (unit,) = split_webhook(fixture_bytes("pywa__interactive_missing_body.json"))

    value = document["entry"][0]["changes"][0]["value"]
    assert unit.body["message"] == value["messages"][0]
    assert unit.body["errors"] == value["errors"]
    assert unit.body["waba_id"] == "1234567890987654321"
    assert "status" not in unit.body and "value" not in unit.body


def test_a_status_unit_carries_its_status_with_callback_data():
    (unit,) = split_webhook(fixture_bytes("pywa__status_with_tracker.json"))

    assert unit.body["status"]["biz_opaque_callback_data"] == "some data"
    assert unit.body["status"]["recipient_id"] == CUSTOMER


def test_the_unicode_escapes_of_a_fixture_are_decoded():
    (unit,) = split_webhook(fixture_bytes("pywa__reaction.json"))

    assert b"\\ud83d\\ude2e" in fixture_bytes("pywa__reaction.json")
    assert unit.body["message"]["reaction"]["emoji"] == "\U0001f62e"


# --- the signature --------------------------------------------------------------------------------


def test_the_signature_matches_a_known_hmac_sha256_vector():
    # The widely published HMAC-SHA256 example (key "key", the quick brown fox): a known answer.
    body = b"The quick brown fox jumps over the lazy dog"
    header = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"

    assert verify_signature(body, header, "key")
    assert verify_signature(body, header.upper().replace("SHA256=", "sha256="), "key")


def test_a_flipped_byte_fails():
    body = fixture_bytes("pywa__text.json")
    header = sign(body)
    index = body.index(b"Body Text")
    flipped = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]

    assert not verify_signature(flipped, header, SECRET)


def test_a_wrong_secret_fails():
    body = fixture_bytes("pywa__text.json")

    assert not verify_signature(body, sign(body, "another-secret"), SECRET)


def test_an_empty_app_secret_verifies_nothing():
    body = b"{}"

    assert not verify_signature(body, sign(body, ""), "")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "sha256=",
        "sha1=" + "0" * 40,
        "SHA256=" + "0" * 64,
        "0" * 64,  # no prefix
        "sha256=" + "g" * 64,  # not hex
        "sha256=" + "0" * 63,  # too short
        "sha256=" + "0" * 66,  # too long
        "sha256=" + "٠" * 64,  # Arabic-Indic zeros: digits to str.isdigit, not hex
        "sha256=" + "0" * 64 + "\n" + "0",
    ],
)
def test_a_missing_or_malformed_header_fails(header):
    assert not verify_signature(b"{}", header, SECRET)


def test_the_header_name_is_meta_s():
    assert SIGNATURE_HEADER == "X-Hub-Signature-256"


def test_non_ascii_text_sent_as_raw_utf8_verifies_over_those_exact_bytes():
    # Given the same webhook as raw UTF-8 and as \\u escapes: equal JSON, different bytes
    document = webhook(messages_change(text_message("wamid.utf8", body="שלום, ça va? 😮")))
    raw_utf8 = json.dumps(document, ensure_ascii=False).encode("utf-8")
    escaped = json.dumps(document, ensure_ascii=True).encode("ascii")
    assert raw_utf8 != escaped

    # Then each verifies only with its own bytes' signature
    assert verify_signature(raw_utf8, sign(raw_utf8), SECRET)
    assert not verify_signature(escaped, sign(raw_utf8), SECRET)
    # And both parse to the same text
    texts = {split_webhook(b)[0].body["message"]["text"]["body"] for b in (raw_utf8, escaped)}
    assert texts == {"שלום, ça va? 😮"}


# --- the GET handshake ----------------------------------------------------------------------------

GOOD = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}


def test_the_handshake_echoes_the_challenge():
    assert handshake_challenge(GOOD, "verify-me") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {**GOOD, "hub.verify_token": "verify-you"},
        {**GOOD, "hub.verify_token": "verify-mé"},
        {**GOOD, "hub.mode": "unsubscribe"},
        {k: v for k, v in GOOD.items() if k != "hub.mode"},
        {k: v for k, v in GOOD.items() if k != "hub.verify_token"},
        {k: v for k, v in GOOD.items() if k != "hub.challenge"},
        {**GOOD, "hub.challenge": ""},
        {},
    ],
    ids=[
        "wrong-token",
        "non-ascii-token",
        "wrong-mode",
        "no-mode",
        "no-token",
        "no-challenge",
        "empty",
        "none",
    ],
)
def test_the_handshake_refuses_anything_else(params):
    assert handshake_challenge(params, "verify-me") is None


def test_the_handshake_refuses_when_no_token_is_configured():
    assert handshake_challenge({**GOOD, "hub.verify_token": ""}, "") is None


# --- splitting ------------------------------------------------------------------------------------


def test_every_entry_and_every_change_gives_its_units():
    # Given 2 entries, each with a change of 2 messages and a change of 2 statuses
    statuses = fixture_json("pywa__status_sent.json")["entry"][0]["changes"][0]
    read = copy.deepcopy(statuses)
    read["value"]["statuses"][0]["status"] = "read"
    statuses["value"]["statuses"].append(read["value"]["statuses"][0])
    document = webhook(messages_change(text_message("wamid.A"), text_message("wamid.B")), statuses, entries=2)

    units = split_webhook(as_bytes(document))

    assert [(u.kind, u.dedup_id) for u in units] == 2 * [
        ("message", "wamid.A"),
        ("message", "wamid.B"),
        ("status", "wamid.xyzxyz:sent"),
        ("status", "wamid.xyzxyz:read"),
    ]
    assert {u.body["waba_id"] for u in units} == {"waba-0", "waba-1"}


def test_a_change_with_messages_and_statuses_gives_both():
    status = fixture_json("pywa__status_read.json")["entry"][0]["changes"][0]["value"]["statuses"][0]
    change = messages_change(text_message("wamid.M"), statuses=[status])

    units = split_webhook(as_bytes(webhook(change)))

    assert [(u.kind, u.dedup_id) for u in units] == [("message", "wamid.M"), ("status", "wamid.xyzxyz:read")]


def test_messages_of_two_customers_land_in_two_groups_each_with_its_own_contact():
    contacts = [
        {"profile": {"name": "Ann"}, "wa_id": CUSTOMER},
        {"profile": {"name": "Bob"}, "wa_id": "15551234567"},
    ]
    change = messages_change(
        text_message("wamid.A"), text_message("wamid.B", "15551234567"), contacts=contacts
    )

    ann, bob = split_webhook(as_bytes(webhook(change)))

    assert (ann.group_id, bob.group_id) == (GROUP, f"{PNID}:15551234567")
    assert [c["profile"]["name"] for c in ann.body["contacts"]] == ["Ann"]
    assert [c["profile"]["name"] for c in bob.body["contacts"]] == ["Bob"]


def test_a_message_without_from_uses_the_business_scoped_user_id():
    # Meta omits "from" for a customer who hid the number behind a username.
    document = fixture_json("pywa__button_quick_reply_no_context_bsuid.json")
    value = document["entry"][0]["changes"][0]["value"]
    del value["messages"][0]["from"]
    del value["contacts"][0]["wa_id"]

    (unit,) = split_webhook(as_bytes(document))

    assert unit.customer == "US.13491208655302741918"
    assert unit.group_id == f"{PNID}:US.13491208655302741918"
    assert unit.body["contacts"] == value["contacts"]


@pytest.mark.parametrize(
    "sender_keys, contacts, expected",
    [
        ({"user_id": "US.1"}, [], "US.1"),
        ({}, [{"wa_id": "15550002222", "user_id": "US.2"}], "15550002222"),
        ({}, [{"user_id": "US.3"}], "US.3"),
        ({}, [], ""),
    ],
)
def test_the_sender_falls_back_to_user_id_then_to_the_contact(sender_keys, contacts, expected):
    message = {"id": "wamid.X", "timestamp": "1700000000", "type": "text", **sender_keys}

    (unit,) = split_webhook(as_bytes(webhook(messages_change(message, contacts=contacts))))

    assert unit.customer == expected
    assert unit.group_id == f"{PNID}:{expected}"


def test_a_status_without_recipient_id_uses_recipient_user_id():
    document = fixture_json("pywa__status_failed.json")
    status = document["entry"][0]["changes"][0]["value"]["statuses"][0]
    del status["recipient_id"]
    status["recipient_user_id"] = "US.13491208655302741918"

    (unit,) = split_webhook(as_bytes(document))

    assert unit.customer == "US.13491208655302741918"


def test_numbers_sent_as_numbers_become_text():
    # Meta sends ids as strings; some samples and proxies send numbers: the result is the same.
    change = messages_change(text_message("wamid.N", sender=972987654321), pnid=1122334455667)

    (unit,) = split_webhook(as_bytes(webhook(change)))

    assert (unit.phone_number_id, unit.customer, unit.group_id) == (PNID, CUSTOMER, GROUP)


def test_an_interactive_message_without_its_body_is_still_a_message():
    (unit,) = split_webhook(fixture_bytes("pywa__interactive_missing_body.json"))

    assert unit.kind == "message"
    assert "interactive" not in unit.body["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1}},
        {"field": "account_update", "value": {"phone_number": "15550001111", "event": "VERIFIED_ACCOUNT"}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": PNID}, "errors": [{"code": 131000}]}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": PNID}, "messages": []}},
        {"field": "messages", "value": {"metadata": {"phone_number_id": PNID}, "messages": {"id": "x"}}},
        {"field": "messages", "value": "not an object"},
        {"value": {"messages": [text_message("wamid.nofield")]}},
    ],
    ids=[
        "template-status",
        "account-update",
        "only-errors",
        "empty-messages",
        "messages-not-a-list",
        "bad-value",
        "no-field",
    ],
)
def test_a_change_that_is_not_messages_or_statuses_is_kept_whole_as_unknown(change):
    (unit,) = split_webhook(as_bytes(webhook(change)))

    assert unit.kind == "unknown"
    assert unit.body["value"] == change["value"]
    assert unit.body["field"] == change.get("field", "")
    assert re.fullmatch(r"[0-9a-f]{64}", unit.dedup_id)
    assert SQS_ID.fullmatch(unit.group_id)


def test_unknown_units_deduplicate_on_their_content():
    change = {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}
    other = {"field": "account_update", "value": {"event": "DISABLED_UPDATE"}}

    first, again, different = split_webhook(as_bytes(webhook(change, change, other)))

    assert first.dedup_id == again.dedup_id != different.dedup_id


def test_malformed_entries_changes_and_items_are_kept_as_unknown():
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            "not an entry",
            {"id": "waba", "changes": "not a list"},
            {"id": "waba", "changes": ["not a change"]},
            {"id": "waba", "changes": [messages_change("not a message")]},
        ],
    }

    units = split_webhook(as_bytes(document))

    assert [u.kind for u in units] == ["unknown"] * 4
    assert units[3].body["value"] == "not a message"
    assert units[3].phone_number_id == PNID


def test_an_empty_entry_list_gives_no_units():
    assert split_webhook(b'{"object": "whatsapp_business_account", "entry": []}') == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"object": "whatsapp_business_account", "entry": [',
        b"\xff\xfe{}",
        '{"object": "whatsapp_business_account", "entry": []}'.encode("utf-16"),
        b'{"object": "whatsapp_business_account", "entry": [NaN]}',
        b"[]",
        b'"whatsapp_business_account"',
        b'{"object": "page", "entry": []}',
        b'{"entry": []}',
        b'{"object": "whatsapp_business_account"}',
        b'{"object": "whatsapp_business_account", "entry": {}}',
    ],
)
def test_a_body_that_is_not_a_whatsapp_webhook_is_refused(body):
    with pytest.raises(WebhookFormatError):
        split_webhook(body)


def test_the_format_error_does_not_quote_the_body():
    with pytest.raises(WebhookFormatError) as raised:
        split_webhook(b'{"object": "page", "phone": "972987654321"')

    assert "972987654321" not in str(raised.value)


# --- SQS ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_UNITS))
def test_fixture_ids_are_valid_sqs_ids(name):
    for unit in split_webhook(fixture_bytes(name)):
        assert SQS_ID.fullmatch(unit.dedup_id)
        assert SQS_ID.fullmatch(unit.group_id)


@pytest.mark.parametrize(
    "customer",
    ["US." + "1" * 130, "name with spaces", "Zoë", "tab\there"],
    ids=["too-long", "space", "non-ascii", "control"],
)
def test_a_group_id_that_sqs_would_refuse_is_hashed_stably(customer):
    change = messages_change(text_message("wamid.G", sender=customer))

    (unit,) = split_webhook(as_bytes(webhook(change)))
    (again,) = split_webhook(as_bytes(webhook(change)))

    assert unit.customer == customer
    assert unit.group_id == hashlib.sha256(f"{PNID}:{customer}".encode()).hexdigest()
    assert unit.group_id == again.group_id


def test_a_dedup_id_that_sqs_would_refuse_is_hashed():
    long_id = "wamid." + "A" * 200
    change = messages_change(text_message(long_id), text_message("wamid.spa ce"))

    long_unit, spaced = split_webhook(as_bytes(webhook(change)))

    assert long_unit.dedup_id == hashlib.sha256(long_id.encode()).hexdigest()
    assert spaced.dedup_id == hashlib.sha256(b"wamid.spa ce").hexdigest()
    assert long_unit.body["message"]["id"] == long_id


def test_an_id_of_exactly_128_printable_characters_is_kept():
    message_id = "w" * 120 + "!~:/=+_-"

    (unit,) = split_webhook(as_bytes(webhook(messages_change(text_message(message_id)))))

    assert unit.dedup_id == message_id


def test_a_message_without_id_deduplicates_on_its_content():
    message = {"from": CUSTOMER, "timestamp": "1700000000", "type": "text", "text": {"body": "x"}}

    (unit,) = split_webhook(as_bytes(webhook(messages_change(message))))
    (again,) = split_webhook(as_bytes(webhook(messages_change(message))))

    assert re.fullmatch(r"[0-9a-f]{64}", unit.dedup_id)
    assert unit.dedup_id == again.dedup_id


def test_units_are_frozen():
    (unit,) = split_webhook(fixture_bytes("pywa__text.json"))

    assert isinstance(unit, InboundUnit)
    with pytest.raises(AttributeError):
        unit.group_id = "other"  # type: ignore[misc]
