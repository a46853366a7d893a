"""Photo search in the chat: a photo a customer sends is answered with the shop's closest products.

The inbound worker keeps the photo in the media bucket and queues a :class:`PhotoSearchJob`; this
module, run by the photo search function (which has the models), reads the photo, validates it,
asks a :class:`ProductFinder` for the shop's best matches and answers once:

- a multi-product message of the matches when the shop's channel has a WhatsApp catalog (Meta
  shows each item from the catalog, found by its retailer id);
- otherwise the best match's picture with the matches listed, title and price, in its caption
  (a plain text when the best match has no picture);
- a friendly text when nothing matched or the photo could not be read;
- a thank-you saying the shop will answer where visual search is not live for the shop's country
  (the finder raises FeatureNotAvailable): the photo is kept for the shop like any message.

Every answer is said in the conversation's language, which the job carries (the shop's own where
it names none), with the assistant's catalogs (``chatshop.assistant.phrases``) and its money
formatting for the shop's country.

The answer is an outbound record with a deterministic id (``photo-<message id>``) stored once and
queued to the sender like every reply, so a job run twice answers once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from PIL.Image import Image as PILImage

from chatshop.assistant import phrases
from chatshop.assistant.i18n import SOURCE_LANGUAGE, Translator, default_language, supported, translator
from chatshop.messaging.conversations import queue_reply
from chatshop.messaging.outbound import (
    MAX_CAPTION,
    MAX_PRODUCT_ITEMS,
    Image,
    OutboundMessage,
    ProductListMessage,
    ProductSection,
    Text,
)
from chatshop.messaging.photo_queue import PhotoSearchJob
from chatshop.messaging.records import OutboundRecord, SendJob
from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.errors import FeatureNotAvailable, NotFound
from chatshop.shops.domain import Product
from chatshop.shops.media import MediaBucket, image_key

from .images import MAX_QUERY_IMAGE_BYTES, ImageRejected, validate_image

# How many matches to ask for: enough to fill a product list worth scrolling, far under Meta's 30.
MATCH_LIMIT = 10
# A caption lists only the first few: a long list under one picture is not read.
LISTED_MATCHES = 5
MAX_LISTED_TITLE = 60
# What WhatsApp's image messages carry; a WebP picture would be refused by Meta (it sends WebP as stickers).
WHATSAPP_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})

Outcome = Literal["matches", "no-match", "unreadable", "not-live", "answered-before"]


# --- What this module needs, as the worker wires it ------------------------------------------------


class Match(Protocol):
    """One search result (``chatshop.search.service.SearchResult`` has this shape)."""

    @property
    def product_id(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def product(self) -> Product: ...


class SpokenShop(Protocol):
    """What of a shop decides the words of its answers (``chatshop.shops.domain.Shop`` has it)."""

    @property
    def country(self) -> str: ...

    @property
    def language(self) -> str | None: ...


class ProductFinder(Protocol):
    def __call__(self, image: PILImage, shop_id: str, limit: int) -> Sequence[Match]:
        """The shop's products that look most like ``image``, best first."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    content_type: str


class PhotoSource(Protocol):
    def load(self, key: str) -> Photo | None:
        """The photo kept under ``key``, or None when it is gone."""


class ReplyStore(Protocol):
    """The part of :class:`chatshop.messaging.conversation_store.ConversationStore` used here."""

    def create_outbound(self, record: OutboundRecord) -> bool: ...

    def outbound(self, outbound_id: str) -> OutboundRecord | None: ...


class SendQueue(Protocol):
    def send(self, job: SendJob) -> None: ...


# --- The answer -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoAnswer:
    outcome: Outcome
    reply_id: str
    product_ids: tuple[str, ...] = ()
    reason: str | None = None  # why a photo was unreadable: an error code, never the customer's data


@dataclass(frozen=True)
class PhotoSearch:
    photos: PhotoSource
    find: ProductFinder
    catalog_of: Callable[[str], str | None]  # shop id -> the WhatsApp catalog of its channel
    image_link: Callable[[Product], str | None]  # a URL Meta can fetch the product's picture from
    store: ReplyStore
    outbox: SendQueue
    shop_of: Callable[[str], SpokenShop | None]  # None: the shop is gone
    limit: int = MATCH_LIMIT

    def answer(self, job: PhotoSearchJob) -> PhotoAnswer:
        earlier = self.store.outbound(job.reply_id)
        if earlier is not None:
            # The search ran before; only a send that may have been lost is queued again.
            if earlier.status == "queued":
                self.outbox.send(SendJob(outbound_id=earlier.id))
            return PhotoAnswer("answered-before", job.reply_id)
        answer, message = self._compose(job)
        record = OutboundRecord(
            id=job.reply_id,
            shop_id=job.shop_id,
            phone_number_id=job.phone_number_id,
            to=job.customer,
            message=message.model_dump(mode="json", exclude_none=True),
            reply_to=job.reply_to,
            created_at=datetime.now(UTC),
        )
        # Stored once, then queued to the sender exactly as the inbound worker queues its replies.
        queue_reply(self.store, self.outbox, record)
        return answer

    def _compose(self, job: PhotoSearchJob) -> tuple[PhotoAnswer, OutboundMessage]:
        t = voice(job.language, self.shop_of(job.shop_id))
        image = self._read(job.media_key)
        if isinstance(image, str):
            unreadable = Text(body=t.text(phrases.PHOTO_UNREADABLE))
            return PhotoAnswer("unreadable", job.reply_id, reason=image), unreadable
        try:
            matches = distinct(self.find(image, job.shop_id, self.limit))
        except FeatureNotAvailable:
            return PhotoAnswer("not-live", job.reply_id), Text(body=t.text(phrases.PHOTO_KEPT))
        except NotFound:  # the shop closed or paused since the photo came: nothing to offer
            return PhotoAnswer("no-match", job.reply_id), Text(body=t.text(phrases.PHOTO_NO_MATCH))
        if not matches:
            return PhotoAnswer("no-match", job.reply_id), Text(body=t.text(phrases.PHOTO_NO_MATCH))
        message = reply_for(t, matches, self.catalog_of(job.shop_id), self.image_link)
        shown = tuple(m.product_id for m in matches[: shown_count(message, matches)])
        return PhotoAnswer("matches", job.reply_id, shown), message

    def _read(self, key: str) -> PILImage | str:
        """The validated image, or the code of what is wrong with it."""
        photo = self.photos.load(key)
        if photo is None:
            return "photo_missing"
        try:
            return validate_image(photo.data, photo.content_type).image
        except ImageRejected as exc:
            return exc.code


# --- Composing the reply (pure) ---------------------------------------------------------------------


def voice(language: str | None, shop: SpokenShop | None) -> Translator:
    """The conversation's language, else the shop's as the assistant picks it (the one it chose, else
    its country's); money written as the shop's country writes it. A shop gone since the photo came
    leaves English, the catalogs' source, for a job that names no language."""
    if shop is None:
        return translator(supported(language) or SOURCE_LANGUAGE)
    spoken = supported(language) or supported(shop.language) or default_language(shop.country)
    return translator(spoken, shop.country)


def distinct(matches: Sequence[Match]) -> list[Match]:
    """One match per product, the best one; a product with several pictures may match more than once."""
    seen: set[str] = set()
    kept = []
    for match in matches:
        if match.product_id not in seen:
            seen.add(match.product_id)
            kept.append(match)
    return kept


def reply_for(
    t: Translator,
    matches: Sequence[Match],
    catalog_id: str | None,
    image_link: Callable[[Product], str | None],
) -> OutboundMessage:
    if catalog_id:
        return product_list(t, matches, catalog_id)
    return listing(t, matches, image_link(matches[0].product))


def product_list(t: Translator, matches: Sequence[Match], catalog_id: str) -> ProductListMessage:
    """Meta's multi-product message; its catalog knows a product by our retailer id."""
    retailer_ids = list(dict.fromkeys(m.product.retailer_id for m in matches))[:MAX_PRODUCT_ITEMS]
    section = ProductSection(
        title=t.text(phrases.PHOTO_LIST_SECTION), product_retailer_ids=tuple(retailer_ids)
    )
    return ProductListMessage(
        catalog_id=catalog_id,
        header=t.text(phrases.PHOTO_LIST_HEADER),
        body=t.text(phrases.PHOTO_LIST_BODY),
        sections=(section,),
    )


def listing(t: Translator, matches: Sequence[Match], best_image_url: str | None) -> Image | Text:
    """The matches as lines of title and price: under the best match's picture when it has one."""
    text = listing_text(t, matches)
    if best_image_url is None:
        return Text(body=text)
    return Image(link=best_image_url, caption=text)


def listing_text(t: Translator, matches: Sequence[Match]) -> str:
    lines = [t.text(phrases.PHOTO_LISTING_INTRO)]
    for position, match in enumerate(matches[:LISTED_MATCHES], start=1):
        line = t.text(
            phrases.PHOTO_LISTING_LINE,
            position=position,
            title=_short(match.product.title),
            price=price_label(t, match.product),
        )
        lines.append(line)
    # Titles are capped, so five lines fit a caption; the cut only guards a future change of limits.
    return "\n".join(lines)[:MAX_CAPTION]


def price_label(t: Translator, product: Product) -> str:
    price = t.money(product.price.amount, product.price.currency)
    sale = product.sale_price
    if sale is not None and sale.amount < product.price.amount:
        return t.text(phrases.SALE_PRICE, sale=t.money(sale.amount, sale.currency), price=price)
    return price


def shown_count(message: OutboundMessage, matches: Sequence[Match]) -> int:
    """How many of ``matches`` the customer sees in ``message``."""
    if isinstance(message, ProductListMessage):
        return min(len(matches), MAX_PRODUCT_ITEMS)
    return min(len(matches), LISTED_MATCHES)


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_LISTED_TITLE else title[: MAX_LISTED_TITLE - 3].rstrip() + "..."


# --- Data access ----------------------------------------------------------------------------------


class CustomerPhotos:
    """The photos customers sent, as the inbound worker kept them in the media bucket."""

    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)

    def load(self, key: str) -> Photo | None:
        try:
            found = self._s3.get_object(Bucket=self._bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return None
        # One byte past the limit is enough for validation to refuse it, without reading it all.
        data = found["Body"].read(MAX_QUERY_IMAGE_BYTES + 1)
        found["Body"].close()
        return Photo(data, found.get("ContentType", ""))


def product_image_link(bucket: MediaBucket) -> Callable[[Product], str | None]:
    """A presigned URL of the product's first picture Meta can send; else the one its feed links to."""

    def link(product: Product) -> str | None:
        for image in product.images:
            if image.content_type in WHATSAPP_IMAGE_TYPES and image.index_status != "rejected":
                return bucket.presigned_get(image_key(product.shop_id, product.id, image.id))
        return product.image_link

    return link
