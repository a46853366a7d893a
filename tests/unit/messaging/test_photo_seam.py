"""A customer's photo goes to the photo search worker instead of being acknowledged, once per message,
with the language the conversation speaks."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image as PILImage
from pydantic import ValidationError

from chatshop.assistant.dialogue import Assistant
from chatshop.assistant.state import ConversationState
from chatshop.messaging.conversations import ACKNOWLEDGEMENT, handle_unit
from chatshop.messaging.media_fetch import media_key
from chatshop.messaging.outbound import Text, parse_outbound
from chatshop.messaging.photo_queue import PhotoSearchJob
from chatshop.messaging.records import OutboundRecord, SendJob
from chatshop.messaging.webhook import split_webhook
from chatshop.search.chat import Photo, PhotoSearch
from chatshop.shops.domain import Shop
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

    def record_inbound(
        self, shop_id, message_id, phone_number_id, customer, at, summary, archive_key=None
    ) -> bool:
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
    job = PhotoSearchJob(
        shop_id=SHOP, phone_number_id=PNID, customer=CUSTOMER, media_key="k", reply_to="w", language="es"
    )

    assert PhotoSearchJob.model_validate_json(job.model_dump_json()) == job
    assert json.loads(job.model_dump_json()) == {
        "shop_id": SHOP,
        "phone_number_id": PNID,
        "customer": CUSTOMER,
        "media_key": "k",
        "reply_to": "w",
        "language": "es",
    }
    assert job.reply_id == "photo-w"


def test_a_job_queued_before_jobs_had_a_language_speaks_the_shop_s():
    queued = {
        "shop_id": SHOP,
        "phone_number_id": PNID,
        "customer": CUSTOMER,
        "media_key": "k",
        "reply_to": "w",
    }

    assert PhotoSearchJob.model_validate_json(json.dumps(queued)).language is None


@pytest.mark.parametrize(
    "change",
    [{"media_key": ""}, {"reply_to": None}, {"extra": "field"}, {"language": ""}],
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


# --- the conversation's language, to the photo search ---------------------------------------------


def test_the_responder_s_language_goes_with_the_photo(store, outbox, photos):
    def responder(shop_id, message, search_photo):
        return search_photo("pt_BR")

    result = handle_unit(store, outbox, FakeMedia(), unit("pywa__image.json"), photos, responder)

    assert result.reply_id == f"photo-{PHOTO_ID}"
    assert [job.language for job in photos.sent] == ["pt_BR"]


class FakeStates:
    def __init__(self, *states: ConversationState) -> None:
        self.items = {(s.phone_number_id, s.customer): s for s in states}

    def get(self, phone_number_id: str, customer: str) -> ConversationState | None:
        return self.items.get((phone_number_id, customer))

    def create_pointer(self, state: ConversationState) -> None:
        pass

    def save(self, state: ConversationState) -> ConversationState:
        saved = state.model_copy(update={"version": state.version + 1})
        self.items[(state.phone_number_id, state.customer)] = saved
        return saved


class OneShop:
    """The shops context with one shop, whose catalog the photo's turn never reads."""

    def __init__(self, shop: Shop) -> None:
        self._shop = shop

    def shop(self, shop_id: str) -> Shop | None:
        return self._shop if shop_id == self._shop.id else None

    def catalog_id(self, shop_id: str) -> str | None:
        return None

    def products(self, shop_id: str) -> list:
        return []

    def products_by_id(self, shop_id: str, product_ids) -> dict:
        return {}

    def image_link(self, product) -> str | None:
        return None


class NoReplies:
    """The assistant's own replies and questions: a photo's turn has none, the photo search answers."""

    def send(self, record) -> None:
        raise AssertionError(f"the assistant replied itself: {record.id}")

    def resend(self, reply_id: str) -> None:
        raise AssertionError(f"the assistant resent {reply_id}")

    def ask(self, job) -> None:
        raise AssertionError("the assistant asked the search worker a question")


class KeptPhotos:
    """The media bucket, holding the one photo the customer sent."""

    def load(self, key: str) -> Photo | None:
        if key != f"whatsapp-media/{PNID}/65463453":
            return None
        out = io.BytesIO()
        PILImage.new("RGB", (32, 32), (200, 30, 30)).save(out, format="PNG")
        return Photo(out.getvalue(), "image/png")


def test_a_spanish_conversation_s_photo_is_answered_in_spanish(store, outbox, photos):
    # Given a US shop (English by its country) whose customer has been writing in Spanish
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    shop = Shop(
        id=SHOP,
        merchant_id="m" * 32,
        name="Corner Shop",
        description="",
        country="US",
        currency="USD",
        status="active",
        timezone="UTC",
        created_at=now,
        updated_at=now,
    )
    spoken = ConversationState(
        conversation_id="cv_1", shop_id=SHOP, phone_number_id=PNID, customer=CUSTOMER, language="es"
    )
    assistant = Assistant(
        states=FakeStates(spoken), catalogs=OneShop(shop), replies=NoReplies(), questions=NoReplies()
    )

    # When the customer sends a photo, and the photo search worker runs its job (nothing in the shop
    # looks like it)
    handle_unit(
        store,
        outbox,
        FakeMedia(),
        unit("pywa__image.json"),
        photos,
        lambda shop_id, message, search_photo: assistant.on_message(shop_id, message, search_photo).reply_id,
    )
    (job,) = photos.sent
    search = PhotoSearch(
        photos=KeptPhotos(),
        find=lambda image, shop_id, limit: [],
        catalog_of=lambda shop_id: None,
        image_link=lambda product: None,
        store=store,
        outbox=outbox,
        shop_of=lambda shop_id: shop,
    )
    search.answer(job)

    # Then the customer reads the answer in Spanish
    assert job.language == "es"
    assert parse_outbound(store.outbound_records[f"photo-{PHOTO_ID}"].message) == Text(
        body="No encontramos ningún producto como el de tu foto. Prueba con otra foto o cuéntanos en "
        "pocas palabras qué estás buscando."
    )
    assert outbox.sent == [SendJob(outbound_id=f"photo-{PHOTO_ID}")]
