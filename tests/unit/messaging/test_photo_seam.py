"""A customer's photo goes to the photo search worker instead of being acknowledged, once per message."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from chatshop.messaging.conversations import ACKNOWLEDGEMENT, handle_unit
from chatshop.messaging.media_fetch import media_key
from chatshop.messaging.photo_queue import PhotoSearchJob
from chatshop.messaging.records import OutboundRecord, SendJob
from chatshop.messaging.webhook import split_webhook
from tests.conftest import WHATSAPP_FIXTURES

SHOP = "a" * 32
PNID = "1122334455667"
CUSTOMER = "972987654321"
PHOTO_ID = "wamid.xyzxyz"


class FakeStore:
    """The conversation store in memory, with its create-once semantics."""

    def __init__(self) -> None:
        self.inbound: set[str] = set()
        self.outbound_records: dict[str, OutboundRecord] = {}

    def record_inbound(self, shop_id, message_id, phone_number_id, customer, at, summary) -> bool:
        first = message_id not in self.inbound
        self.inbound.add(message_id)
        return first

    def touch_customer(self, phone_number_id, customer, name, at) -> None:
        pass

    def keep_unparsed(self, shop_id, reason, body) -> None:
        raise AssertionError(f"unexpected unparsed unit: {reason}")

    def create_outbound(self, record: OutboundRecord) -> bool:
        if record.id in self.outbound_records:
            return False
        self.outbound_records[record.id] = record
        return True

    def outbound(self, outbound_id: str) -> OutboundRecord | None:
        return self.outbound_records.get(outbound_id)


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, job: Any, delay_s: int = 0) -> None:
        self.sent.append(job)


class FakeMedia:
    """Keeps every photo, as the real fetcher does while Meta still has it; ``gone`` says Meta lost it."""

    def __init__(self, gone: bool = False) -> None:
        self.gone = gone

    def keep(self, phone_number_id: str, media_id: str) -> str | None:
        return None if self.gone else media_key(phone_number_id, media_id)


def unit(name: str) -> dict[str, Any]:
    (only,) = split_webhook((WHATSAPP_FIXTURES / name).read_bytes())
    return {**only.body, "shop_id": SHOP}


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def outbox() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def photos() -> FakeQueue:
    return FakeQueue()


def test_a_photo_is_queued_for_search_with_everything_the_worker_needs(store, outbox, photos):
    result = handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"), photos)

    assert result.outcome == "stored"
    assert result.reply_id == f"photo-{PHOTO_ID}"
    assert photos.sent == [
        PhotoSearchJob(
            shop_id=SHOP,
            phone_number_id=PNID,
            customer=CUSTOMER,
            media_key=f"whatsapp-media/{PNID}/65463453",
            reply_to=PHOTO_ID,
        )
    ]
    # No acknowledgement: the search worker's answer is the reply
    assert store.outbound_records == {}
    assert outbox.sent == []


def test_a_photo_delivered_again_before_it_was_answered_is_queued_again(store, outbox, photos):
    # Given a photo handled once, whose job the worker has not run yet (or lost)
    handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"), photos)
    # When the same message comes again
    result = handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"), photos)
    # Then it is a duplicate, and the job goes again: the worker stores its answer only once
    assert result.outcome == "duplicate"
    assert [job.reply_to for job in photos.sent] == [PHOTO_ID, PHOTO_ID]
    assert outbox.sent == []


@pytest.mark.parametrize(
    "status, resent",
    [("queued", [SendJob(outbound_id=f"photo-{PHOTO_ID}")]), ("sending", []), ("sent", []), ("failed", [])],
)
def test_a_photo_delivered_again_after_it_was_answered_is_not_searched_again(
    store, outbox, photos, status, resent
):
    # Given the worker's answer to the photo, stored with this status
    store.create_outbound(answer(status))
    # When the photo's message comes again
    handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"), photos)
    # Then no second search; only an answer that may never have been queued is queued again
    assert photos.sent == []
    assert outbox.sent == resent
    assert list(store.outbound_records) == [f"photo-{PHOTO_ID}"]


def test_without_a_photo_search_queue_a_photo_is_acknowledged(store, outbox):
    result = handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"))

    assert result.reply_id == f"ack-{PHOTO_ID}"
    assert store.outbound_records[f"ack-{PHOTO_ID}"].message == {"type": "text", "body": ACKNOWLEDGEMENT}
    assert outbox.sent == [SendJob(outbound_id=f"ack-{PHOTO_ID}")]


def test_a_photo_meta_no_longer_has_is_acknowledged_not_searched(store, outbox, photos):
    result = handle_unit(store, outbox, FakeMedia(gone=True), unit("pywa__image.json"), photos)

    assert photos.sent == []
    assert result.reply_id == f"ack-{PHOTO_ID}"
    assert outbox.sent == [SendJob(outbound_id=f"ack-{PHOTO_ID}")]


def test_a_text_is_still_acknowledged_when_photo_search_is_deployed(store, outbox, photos):
    result = handle_unit(store, outbox, FakeMedia(), unit("pywa__text.json"), photos)

    assert photos.sent == []
    assert result.reply_id == f"ack-{PHOTO_ID}"
    assert outbox.sent == [SendJob(outbound_id=f"ack-{PHOTO_ID}")]


def test_the_job_travels_as_json_and_back():
    job = PhotoSearchJob(shop_id=SHOP, phone_number_id=PNID, customer=CUSTOMER, media_key="k", reply_to="w")

    assert PhotoSearchJob.model_validate_json(job.model_dump_json()) == job
    assert json.loads(job.model_dump_json()) == {
        "shop_id": SHOP,
        "phone_number_id": PNID,
        "customer": CUSTOMER,
        "media_key": "k",
        "reply_to": "w",
    }
    assert job.reply_id == "photo-w"


@pytest.mark.parametrize(
    "change",
    [{"media_key": ""}, {"reply_to": None}, {"extra": "field"}],
)
def test_a_job_that_does_not_fit_is_refused(change):
    fields = {
        "shop_id": SHOP,
        "phone_number_id": PNID,
        "customer": CUSTOMER,
        "media_key": "k",
        "reply_to": "w",
    }

    with pytest.raises(ValidationError):
        PhotoSearchJob.model_validate({**fields, **change})


def answer(status: str) -> OutboundRecord:
    return OutboundRecord(
        id=f"photo-{PHOTO_ID}",
        shop_id=SHOP,
        phone_number_id=PNID,
        to=CUSTOMER,
        message={"type": "text", "body": "matches"},
        reply_to=PHOTO_ID,
        status=status,
        created_at=datetime.now(UTC),
    )
