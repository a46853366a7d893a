"""Privacy requests' pure parts: what a customer is written as, the pseudonym, the export's zip,
an order kept for tax, and the chat's words for a request."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chatshop.assistant.data_requests import intent_of
from chatshop.messaging.inbound import parse_unit
from chatshop.orders.domain import Order
from chatshop.privacy.export_archive import build_export
from chatshop.privacy.order_holdings import pseudonymised
from chatshop.privacy.requests import PrivacyRequest, PrivacyRequestCreate, pseudonym, wa_id_of

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_a_number_is_taken_as_people_write_it_and_refused_when_it_is_not_one():
    assert PrivacyRequestCreate(type="export", customer="+1 (555) 010-0200").wa_id == "15550100200"
    assert wa_id_of("+91 98765 43210") == "919876543210"
    for bad in ("call me", "+1 2", "+1 555 0100 200 333 444 555", ""):
        with pytest.raises(ValidationError):
            PrivacyRequestCreate(type="export", customer=bad)
    with pytest.raises(ValidationError):
        PrivacyRequestCreate(type="forget", customer="+1 555 0100 200")


def test_the_pseudonym_is_keyed_per_shop_and_never_the_number():
    one = pseudonym(b"secret", "shop-a", "15550100200")
    assert one == pseudonym(b"secret", "shop-a", "15550100200")
    assert one != pseudonym(b"secret", "shop-b", "15550100200")
    assert one != pseudonym(b"other", "shop-a", "15550100200")
    assert "15550100200" not in one and one.startswith("erased_")


def test_the_merchant_sees_progress_and_never_the_pseudonym():
    request = PrivacyRequest(
        id="pr_" + "0" * 24,
        shop_id="s",
        type="erasure",
        status="running",
        source="api",
        customer="+15\u2022\u2022\u2022\u2022\u2022\u202200",
        subject="erased_abc",
        steps_done=["files", "messages"],
        created_at=NOW,
        updated_at=NOW,
        export_key="privacy-exports/s/x.zip",
    )
    body = request.view(None).model_dump(mode="json")
    assert body["progress"] == {"done": 2, "of": 5}
    assert "erased_abc" not in json.dumps(body) and "privacy-exports" not in json.dumps(body)


def test_the_export_is_a_zip_of_the_data_and_the_files_it_names():
    data = {"customer": {"whatsapp_id": "15550100200"}, "conversations": []}
    archive = zipfile.ZipFile(io.BytesIO(build_export(data, {"whatsapp-media/123/m1": b"\x89PNG-bytes"})))
    written = json.loads(archive.read("data.json"))
    assert written["customer"] == data["customer"]
    assert written["media_files"] == {"whatsapp-media/123/m1": "media/m1"}
    assert archive.read("media/m1") == b"\x89PNG-bytes"


def test_an_order_kept_for_tax_loses_the_number_name_and_click_id_and_keeps_the_money():
    order = Order.model_validate(
        {
            "id": "o" + "1" * 31,
            "number": "7KQ2-MX4D",
            "shop_id": "s",
            "status": "paid",
            "lines": [],
            "total": {"amount": 3000, "currency": "USD"},
            "payment_method": "on_delivery",
            "customer_wa_id": "15550100200",
            "phone_number_id": "1555000",
            "customer_name": "Odile",
            "attribution": {"kind": "ad", "id": "ad-7", "ctwa_clid": "ARAkLk-click"},
            "placed_at": NOW,
            "updated_at": NOW + timedelta(minutes=1),
        }
    )
    kept = pseudonymised(order, "erased_abc")
    assert kept.customer_wa_id is None and kept.customer_name is None
    assert kept.customer_pseudonym == "erased_abc"
    assert kept.attribution == {"kind": "ad", "id": "ad-7"}
    assert kept.total == order.total and kept.number == order.number


def _text(body: str):
    return parse_unit(
        {
            "kind": "message",
            "phone_number_id": "1555000",
            "contact": {"wa_id": "15550100200", "profile": {"name": "Odile"}},
            "message": {
                "from": "15550100200",
                "id": "wamid.x",
                "timestamp": "1764666000",
                "type": "text",
                "text": {"body": body},
            },
        }
    )


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        ("Export my data", "ask_export"),
        ("delete my data!", "ask_erase"),
        ("Borrar mis datos", "ask_erase"),
        ("apagar meus dados", "ask_erase"),
        ("मेरा डेटा हटाएं", "ask_erase"),
        ("exportar meus dados", "ask_export"),
    ],
)
def test_the_chat_knows_a_request_for_ones_data_in_four_languages(words, kind):
    said = intent_of(_text(words))
    assert said is not None and said.kind == kind


def test_a_question_that_mentions_data_is_not_a_request():
    assert intent_of(_text("do you delete my data when I order a mug?")) is None
