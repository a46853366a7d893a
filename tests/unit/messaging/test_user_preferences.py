"""Meta's user_preferences webhook ("Stop promotions"): one unit per customer, in their conversation's
group, parsed as a preference (pure)."""

from __future__ import annotations

import json

from chatshop.messaging.inbound import PreferenceUpdate, parse_unit
from chatshop.messaging.webhook import split_webhook


def webhook(*preferences: dict) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "5215550001111"}],
        "user_preferences": list(preferences),
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "user_preferences"}]}],
    }
    return json.dumps(body).encode()


STOP = {
    "wa_id": "5215550001111",
    "detail": "User requested to stop marketing messages",
    "category": "marketing_messages",
    "value": "stop",
    "timestamp": 1731705721,
}


def test_each_preference_is_a_unit_in_the_customers_conversation():
    (unit,) = split_webhook(webhook(STOP))
    assert unit.kind == "preference"
    assert unit.group_id == "106540352242922:5215550001111"
    # The same preference delivered twice deduplicates; another does not
    assert split_webhook(webhook(STOP))[0].dedup_id == unit.dedup_id
    assert split_webhook(webhook({**STOP, "value": "resume"}))[0].dedup_id != unit.dedup_id


def test_a_preference_unit_parses_as_the_customers_choice():
    (unit,) = split_webhook(webhook(STOP))
    parsed = parse_unit({**unit.body, "shop_id": "s1"})
    assert isinstance(parsed, PreferenceUpdate)
    assert (parsed.phone_number_id, parsed.customer, parsed.category, parsed.value) == (
        "106540352242922",
        "5215550001111",
        "marketing_messages",
        "stop",
    )


def test_a_malformed_preference_is_kept_not_dropped():
    (unit,) = split_webhook(webhook("not an object"))
    assert unit.kind == "unknown"
