"""Answering a customer's photo in the chat: the reply, once, in the conversation's language, whatever
the photo and the shop."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image as PILImage

from chatshop.assistant import phrases
from chatshop.assistant.i18n import LANGUAGES, translator
from chatshop.messaging.outbound import (
    MAX_CAPTION,
    MAX_HEADER_TEXT,
    MAX_INTERACTIVE_BODY,
    MAX_SECTION_TITLE,
    MAX_TEXT_BODY,
    Image,
    ProductListMessage,
    Text,
    graph_body,
    parse_outbound,
)
from chatshop.messaging.photo_queue import PhotoSearchJob
from chatshop.messaging.records import OutboundRecord, SendJob
from chatshop.platform.errors import FeatureNotAvailable, NotFound
from chatshop.search.chat import (
    LISTED_MATCHES,
    Photo,
    PhotoSearch,
    listing_text,
    price_label,
    product_image_link,
)
from chatshop.search.service import SearchResult
from chatshop.shops.domain import Product, ProductImage
from chatshop.shops.money import Money

SHOP = "a" * 32
CATALOG = "354160437058781"
WAMID = "wamid.photo-1"
MEDIA_KEY = "whatsapp-media/1122334455667/65463453"
NOW = datetime(2025, 5, 1, tzinfo=UTC)
EN = translator("en", "US")
NBSP = "\u00a0"


# --- fakes ---------------------------------------------------------------------------------------


class FakePhotos:
    def __init__(self, photos: dict[str, Photo]) -> None:
        self.photos = photos

    def load(self, key: str) -> Photo | None:
        return self.photos.get(key)


class FakeFinder:
    """Answers every photo with the products it was given, and remembers what it was asked."""

    def __init__(self, results: list[SearchResult]) -> None:
        self.results = results
        self.calls: list[tuple[tuple[int, int], str, int]] = []

    def __call__(self, image, shop_id: str, limit: int) -> list[SearchResult]:
        self.calls.append((image.size, shop_id, limit))
        return self.results[:limit]


class FakeStore:
    def __init__(self) -> None:
        self.records: dict[str, OutboundRecord] = {}

    def create_outbound(self, record: OutboundRecord) -> bool:
        if record.id in self.records:
            return False
        self.records[record.id] = record
        return True

    def outbound(self, outbound_id: str) -> OutboundRecord | None:
        return self.records.get(outbound_id)


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[SendJob] = []

    def send(self, job: SendJob, delay_s: int = 0) -> None:
        self.sent.append(job)


@dataclass(frozen=True)
class FakeShop:
    country: str = "US"
    language: str | None = None


class FakeBucket:
    def presigned_get(self, key: str) -> str:
        return f"https://media.example.com/{key}?signature=x"


# --- builders ------------------------------------------------------------------------------------


def png(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def product(number: int, **fields: Any) -> Product:
    values: dict[str, Any] = {
        "id": f"p{number:031x}",
        "shop_id": SHOP,
        "retailer_id": f"SKU-{number}",
        "title": f"Red mug {number}",
        "price": Money(amount=1299 + number, currency="USD"),
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Product(**values)


def result(item: Product, score: float = 0.9) -> SearchResult:
    return SearchResult(item.id, item.shop_id, score, item)


def job(**fields: Any) -> PhotoSearchJob:
    values = {
        "shop_id": SHOP,
        "phone_number_id": "1122334455667",
        "customer": "972987654321",
        "media_key": MEDIA_KEY,
        "reply_to": WAMID,
        **fields,
    }
    return PhotoSearchJob(**values)


def photo_search(
    results: list[SearchResult],
    *,
    catalog: str | None = CATALOG,
    photo: Photo | None = None,
    store: FakeStore | None = None,
    outbox: FakeQueue | None = None,
    shop: FakeShop | None = FakeShop(),
    limit: int = 10,
) -> PhotoSearch:
    kept = {MEDIA_KEY: photo or Photo(png(), "image/png")}
    return PhotoSearch(
        photos=FakePhotos(kept),
        find=FakeFinder(results),
        catalog_of=lambda shop_id: catalog if shop_id == SHOP else None,
        image_link=product_image_link(FakeBucket()),
        store=store or FakeStore(),
        outbox=outbox or FakeQueue(),
        shop_of=lambda shop_id: shop if shop_id == SHOP else None,
        limit=limit,
    )


def the_reply(search: PhotoSearch) -> OutboundRecord:
    (record,) = search.store.records.values()
    return record


# --- a shop with a WhatsApp catalog --------------------------------------------------------------


def test_matches_go_as_a_multi_product_message_of_the_catalog():
    found = [result(product(1), 0.97), result(product(2), 0.81), result(product(3), 0.5)]
    search = photo_search(found)

    answer = search.answer(job())

    assert answer.outcome == "matches"
    assert answer.product_ids == tuple(r.product_id for r in found)
    record = the_reply(search)
    message = parse_outbound(record.message)
    assert isinstance(message, ProductListMessage)
    assert message.catalog_id == CATALOG
    assert [s.product_retailer_ids for s in message.sections] == [("SKU-1", "SKU-2", "SKU-3")]
    body = graph_body(message, record.to, record.reply_to)
    assert body["interactive"]["type"] == "product_list"
    assert body["context"] == {"message_id": WAMID}


def test_the_reply_answers_the_customer_s_message_once_queued_for_the_sender():
    search = photo_search([result(product(1))])

    search.answer(job())

    record = the_reply(search)
    assert (record.id, record.shop_id, record.to, record.reply_to, record.status) == (
        f"photo-{WAMID}",
        SHOP,
        "972987654321",
        WAMID,
        "queued",
    )
    assert search.outbox.sent == [SendJob(outbound_id=f"photo-{WAMID}")]


def test_the_shop_is_searched_with_the_decoded_photo():
    search = photo_search([result(product(1))], photo=Photo(png((120, 90)), "image/png"), limit=7)

    search.answer(job())

    assert search.find.calls == [((120, 90), SHOP, 7)]


def test_a_product_found_by_several_of_its_pictures_is_listed_once():
    mug, plate = product(1), product(2)
    search = photo_search([result(mug, 0.9), result(mug, 0.8), result(plate, 0.7)])

    answer = search.answer(job())

    assert answer.product_ids == (mug.id, plate.id)
    message = parse_outbound(the_reply(search).message)
    assert message.sections[0].product_retailer_ids == ("SKU-1", "SKU-2")


def test_no_more_than_thirty_products_go_in_one_message():
    search = photo_search([result(product(n)) for n in range(1, 41)], limit=40)

    answer = search.answer(job())

    message = parse_outbound(the_reply(search).message)
    assert sum(len(s.product_retailer_ids) for s in message.sections) == 30
    assert len(answer.product_ids) == 30


# --- a shop without a catalog --------------------------------------------------------------------


def test_without_a_catalog_the_best_match_s_picture_comes_with_the_matches_listed():
    best = product(1, images=[ProductImage(id="b" * 32, content_type="image/jpeg")])
    search = photo_search([result(best), result(product(2))], catalog=None)

    answer = search.answer(job())

    assert answer.outcome == "matches"
    message = parse_outbound(the_reply(search).message)
    assert isinstance(message, Image)
    assert message.link == FakeBucket().presigned_get(f"shops/{SHOP}/products/{best.id}/images/{'b' * 32}")
    assert message.caption.splitlines() == [
        "This is what we found for your photo:",
        "1. Red mug 1 - $13.00",
        "2. Red mug 2 - $13.01",
    ]


def test_without_a_catalog_or_a_picture_the_matches_go_as_text():
    search = photo_search([result(product(1)), result(product(2))], catalog=None)

    search.answer(job())

    message = parse_outbound(the_reply(search).message)
    assert isinstance(message, Text)
    assert "1. Red mug 1 - $13.00" in message.body


def test_a_sale_price_is_shown_with_the_price_it_replaces():
    on_sale = product(1, sale_price=Money(amount=999, currency="USD"))

    assert listing_text(EN, [result(on_sale)]).splitlines()[1] == "1. Red mug 1 - $9.99 (was $13.00)"


def test_only_the_first_five_are_listed_and_long_titles_are_cut():
    found = [result(product(n, title="Handmade stoneware mug " * 20)) for n in range(1, 9)]

    text = listing_text(EN, found)

    lines = text.splitlines()
    assert len(lines) == 6
    assert all(len(line) < 100 for line in lines)
    assert lines[1].startswith("1. Handmade stoneware mug") and "..." in lines[1]
    assert len(text) <= MAX_CAPTION


def picture(image_id: str, content_type: str, status: str = "indexed") -> ProductImage:
    return ProductImage(id=image_id, content_type=content_type, index_status=status)


def test_the_picture_sent_is_one_whatsapp_can_show():
    # WhatsApp sends WebP only as a sticker; a picture the indexer rejected may not decode for Meta either
    item = product(
        1,
        images=[
            picture("c" * 32, "image/webp"),
            picture("d" * 32, "image/png", "rejected"),
            picture("e" * 32, "image/png"),
        ],
    )

    link = product_image_link(FakeBucket())(item)

    assert link == FakeBucket().presigned_get(f"shops/{SHOP}/products/{item.id}/images/{'e' * 32}")


def test_without_a_picture_to_send_the_feed_s_picture_is_linked():
    item = product(1, image_link="https://shop.example.com/mug.jpg", images=[picture("c" * 32, "image/webp")])

    assert product_image_link(FakeBucket())(item) == "https://shop.example.com/mug.jpg"


def test_a_product_without_any_picture_has_no_link():
    assert product_image_link(FakeBucket())(product(1)) is None


# --- nothing to show -----------------------------------------------------------------------------


def test_no_match_gets_a_friendly_text():
    search = photo_search([])

    answer = search.answer(job())

    assert (answer.outcome, answer.product_ids) == ("no-match", ())
    assert parse_outbound(the_reply(search).message) == Text(body=EN.text(phrases.PHOTO_NO_MATCH))
    assert search.outbox.sent == [SendJob(outbound_id=f"photo-{WAMID}")]


def truncated_png() -> bytes:
    data = png((200, 200))
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "photo, reason",
    [
        (Photo(b"%PDF-1.7 not a picture", "image/jpeg"), "image_type_unsupported"),
        (Photo(truncated_png(), "image/png"), "image_truncated"),
        (Photo(b"", "image/jpeg"), "image_empty"),
        (Photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"IEND", "image/png"), "image_unreadable"),
        (Photo(b"\xff" * (10 * 1024 * 1024 + 1), "image/jpeg"), "image_too_large"),
    ],
)
def test_a_photo_that_cannot_be_read_gets_a_friendly_text_and_no_search(photo, reason):
    search = photo_search([result(product(1))], photo=photo)

    answer = search.answer(job())

    assert (answer.outcome, answer.reason) == ("unreadable", reason)
    assert parse_outbound(the_reply(search).message) == Text(body=EN.text(phrases.PHOTO_UNREADABLE))
    assert search.find.calls == []


def test_a_photo_gone_from_the_bucket_gets_the_same_text():
    search = photo_search([result(product(1))])

    answer = search.answer(job(media_key="whatsapp-media/1122334455667/gone"))

    assert (answer.outcome, answer.reason) == ("unreadable", "photo_missing")
    assert parse_outbound(the_reply(search).message) == Text(body=EN.text(phrases.PHOTO_UNREADABLE))


# --- once ----------------------------------------------------------------------------------------


def test_a_job_run_again_is_not_searched_or_answered_again():
    # Given a photo answered, and its answer sent
    search = photo_search([result(product(1))])
    search.answer(job())
    record = the_reply(search)
    search.store.records[record.id] = record.model_copy(update={"status": "sent"})
    # When its job runs again
    answer = search.answer(job())
    # Then nothing is searched, stored or queued again
    assert answer.outcome == "answered-before"
    assert len(search.find.calls) == 1
    assert list(search.store.records) == [f"photo-{WAMID}"]
    assert search.outbox.sent == [SendJob(outbound_id=f"photo-{WAMID}")]


def test_an_answer_stored_but_never_queued_is_queued_by_the_next_run():
    # Given a worker that stored its answer and stopped before queueing it
    search = photo_search([result(product(1))])
    search.answer(job())
    search.outbox.sent.clear()
    # When the job comes again
    search.answer(job())
    # Then the stored answer goes to the sender, not a new one
    assert search.outbox.sent == [SendJob(outbound_id=f"photo-{WAMID}")]
    assert len(search.find.calls) == 1


def test_two_photos_get_two_answers():
    search = photo_search([result(product(1))])

    search.answer(job(reply_to="wamid.one"))
    search.answer(job(reply_to="wamid.two"))

    assert sorted(search.store.records) == ["photo-wamid.one", "photo-wamid.two"]


class RefusingFinder:
    """A finder for a shop the search is not allowed to answer for."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(self, image, shop_id: str, limit: int) -> list[SearchResult]:
        raise self.error


@pytest.mark.parametrize(
    ("error", "outcome", "text"),
    [
        (FeatureNotAvailable("visual_search", "MX"), "not-live", phrases.PHOTO_KEPT),
        (NotFound("No shop."), "no-match", phrases.PHOTO_NO_MATCH),
    ],
    ids=["visual-search-not-live-there", "shop-closed-since"],
)
def test_a_shop_search_may_not_answer_gets_a_plain_reply(error, outcome, text):
    # Given a shop whose country has no visual search (or a shop closed since the photo came)
    search = replace(photo_search([]), find=RefusingFinder(error))

    # When its customer's photo is answered
    answer = search.answer(job())

    # Then the customer gets the plain reply, once, and the job succeeds
    assert answer.outcome == outcome
    assert parse_outbound(the_reply(search).message) == Text(body=EN.text(text))
    assert search.outbox.sent == [SendJob(outbound_id=f"photo-{WAMID}")]


# --- in the conversation's language ---------------------------------------------------------------


def test_a_spanish_conversation_gets_the_product_list_in_spanish():
    search = photo_search([result(product(1)), result(product(2))])

    search.answer(job(language="es"))

    message = parse_outbound(the_reply(search).message)
    assert isinstance(message, ProductListMessage)
    assert message.header == "Productos parecidos a tu foto"
    assert message.body == "Estos son los productos que más se parecen a tu foto. Toca uno para verlo."
    assert [s.title for s in message.sections] == ["Los más parecidos"]


def test_a_listing_writes_its_prices_as_the_shop_s_country_writes_them():
    # Given a Mexican shop, which speaks Spanish when its customer's language is not known
    mug = product(1, title="Taza roja", price=Money(amount=129900, currency="MXN"))
    plate = product(
        2,
        title="Plato azul",
        price=Money(amount=45000, currency="MXN"),
        sale_price=Money(amount=39950, currency="MXN"),
    )
    search = photo_search([result(mug), result(plate)], catalog=None, shop=FakeShop("MX"))

    # When a photo comes with no language of the conversation
    search.answer(job())

    # Then the matches are listed in Spanish, with pesos as Mexico writes them
    message = parse_outbound(the_reply(search).message)
    assert message.body.splitlines() == [
        "Esto es lo que encontramos para tu foto:",
        "1. Taza roja - $1,299.00",
        "2. Plato azul - $399.50 (antes $450.00)",
    ]


def test_the_shop_s_chosen_language_comes_before_its_country_s():
    search = photo_search([result(product(1))], catalog=None, shop=FakeShop("US", "pt-BR"))

    search.answer(job())

    lines = parse_outbound(the_reply(search).message).body.splitlines()
    assert lines == ["Veja o que encontramos para a sua foto:", f"1. Red mug 1 - US${NBSP}13,00"]


def test_the_conversation_s_language_comes_before_the_shop_s():
    search = photo_search([], shop=FakeShop("MX", "es"))

    search.answer(job(language="en"))

    assert parse_outbound(the_reply(search).message).body.startswith("We could not find a product")


def test_a_language_the_assistant_does_not_speak_leaves_the_shop_s():
    search = photo_search([], shop=FakeShop("BR"))

    search.answer(job(language="fr"))

    assert parse_outbound(the_reply(search).message).body.startswith("Não encontramos nenhum produto")


@pytest.mark.parametrize(
    ("language", "said"),
    [("hi", "माफ़ कीजिए, हम वह फ़ोटो खोल नहीं पाए।"), (None, "Sorry, we could not read that photo.")],
    ids=["hindi", "no-language"],
)
def test_a_shop_gone_since_the_photo_came_is_answered_in_the_conversation_s_language(language, said):
    search = photo_search([], photo=Photo(b"", "image/jpeg"), shop=None)

    search.answer(job(language=language))

    assert parse_outbound(the_reply(search).message).body.startswith(said)


@pytest.mark.parametrize(
    ("failure", "photo", "said"),
    [
        (None, Photo(b"", "image/jpeg"), "Perdón, no pudimos abrir esa foto."),
        (None, None, "No encontramos ningún producto como el de tu foto."),
        (FeatureNotAvailable("visual_search", "MX"), None, "¡Gracias por tu foto! La tienda te responderá"),
        (NotFound("No shop."), None, "No encontramos ningún producto como el de tu foto."),
    ],
    ids=["unreadable", "no-match", "visual-search-not-live-there", "shop-closed-since"],
)
def test_every_plain_answer_is_said_in_the_conversation_s_language(failure, photo, said):
    search = photo_search([], photo=photo)
    if failure is not None:
        search = replace(search, find=RefusingFinder(failure))

    search.answer(job(language="es"))

    assert parse_outbound(the_reply(search).message).body.startswith(said)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_answer_fits_whatsapp_s_limits_in_every_language(language):
    t = translator(language, "IN")
    # The longest listing there is: five titles at the cut, each on sale at a large price
    expensive = Money(amount=99_999_999_99, currency="INR")
    found = [
        result(product(n, title="x" * 200, price=expensive, sale_price=Money(amount=1, currency="INR")))
        for n in range(1, 9)
    ]

    shown = listing_text(t, found)

    assert len(t.text(phrases.PHOTO_LIST_HEADER)) <= MAX_HEADER_TEXT
    assert len(t.text(phrases.PHOTO_LIST_BODY)) <= MAX_INTERACTIVE_BODY
    assert len(t.text(phrases.PHOTO_LIST_SECTION)) <= MAX_SECTION_TITLE
    for said in (phrases.PHOTO_NO_MATCH, phrases.PHOTO_UNREADABLE, phrases.PHOTO_KEPT):
        assert len(t.text(said)) <= MAX_TEXT_BODY
    # Whole: the caption's cut is never what keeps it under the limit
    assert len(shown.splitlines()) == LISTED_MATCHES + 1
    assert shown.endswith(price_label(t, found[LISTED_MATCHES - 1].product))
    assert len(shown) <= MAX_CAPTION
