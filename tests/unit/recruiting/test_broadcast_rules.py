"""Who gets an offer and how a broadcast is counted (pure, over in-memory fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from chatshop.messaging.records import OutboundRecord
from chatshop.recruiting.broadcasts import _strikes, counts, is_us_number, offer_id
from chatshop.recruiting.domain import Consent

START = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Sent:
    def __init__(self, *records: OutboundRecord) -> None:
        self.records = {r.id: r for r in records}

    def outbound(self, outbound_id: str) -> OutboundRecord | None:
        return self.records.get(outbound_id)

    def outbound_many(self, outbound_ids: Sequence[str]) -> dict[str, OutboundRecord]:
        return {i: self.records[i] for i in outbound_ids if i in self.records}


def record(outbound_id: str, status: str, code: int | None = None) -> OutboundRecord:
    return OutboundRecord(
        id=outbound_id,
        shop_id="s1",
        phone_number_id="n1",
        to="5215550001111",
        message={"type": "template", "name": "sale", "language": "en"},
        status=status,
        error_code=code,
        created_at=START,
    )


@pytest.mark.parametrize(
    ("wa_id", "us"),
    [
        ("15551234567", True),  # US
        ("12125550100", True),  # New York
        ("17875550100", True),  # Puerto Rico is the US
        ("14165550100", False),  # Toronto
        ("18765550100", False),  # Jamaica
        ("5215551234567", False),  # Mexico
        ("1555123456", False),  # too short for +1
    ],
)
def test_us_numbers_are_told_apart_from_the_rest_of_plus_one(wa_id, us):
    assert is_us_number(wa_id) is us


def test_counts_add_up_with_their_reasons():
    outcomes = [
        {"decision": "queued", "outbound_id": "a"},
        {"decision": "queued", "outbound_id": "b"},
        {"decision": "queued", "outbound_id": "c"},
        {"decision": "queued", "outbound_id": "d"},
        {"decision": "skipped", "reason": "us_number_marketing_paused"},
        {"decision": "skipped", "reason": "marketing_interval"},
    ]
    sent = Sent(record("a", "delivered"), record("b", "failed", 131049), record("c", "retrying"))
    found = counts(outcomes, sent)
    assert (found.total, found.sent, found.failed, found.skipped, found.pending) == (6, 1, 1, 2, 2)
    assert found.total == found.sent + found.failed + found.skipped + found.pending
    assert found.failed_reasons == {"131049": 1}
    assert found.skipped_reasons == {"us_number_marketing_paused": 1, "marketing_interval": 1}


def consent(last: str | None, strikes: int = 0) -> Consent:
    return Consent(
        shop_id="s1",
        phone_number_id="n1",
        customer="5215550001111",
        status="opted_in",
        changed_at=START,
        via="button",
        last_outbound_id=last,
        limit_strikes=strikes,
    )


def test_metas_marketing_limit_doubles_the_wait_and_a_delivered_offer_resets_it():
    assert _strikes(consent("x", 1), Sent(record("x", "failed", 131049)), "b2") == 2
    assert _strikes(consent("x", 3), Sent(record("x", "read")), "b2") == 0
    assert _strikes(consent("x", 2), Sent(record("x", "sending")), "b2") == 2
    assert _strikes(consent("x", 1), Sent(record("x", "failed", 131026)), "b2") == 1
    assert _strikes(consent(None), Sent(), "b2") == 0
    # The broadcast's own claim, taken again after a crash, is not a refusal of its own
    own = offer_id("b2", "n1", "5215550001111")
    assert _strikes(consent(own, 1), Sent(record(own, "failed", 131049)), "b2") == 1


def test_an_offers_id_holds_no_phone_number():
    assert "5215550001111" not in offer_id("b1", "n1", "5215550001111")
