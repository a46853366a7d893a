"""Applying index events: bring a product's vectors and lexical entries in line with the product.

An event says only which product changed; the indexer reads the product as it is now and
compares it with the index state it recorded last time, so a duplicate, late or out-of-order
event does no harm and an unchanged product is never embedded twice. What changed is embedded
once: the text when its hash differs, each image the first time it is seen. An image gets both
a CLIP vector and its local features (:mod:`chatshop.search.local_features`, kept by a
:class:`LocalWriter`); one recorded as ``indexed`` before local features existed is done again.

A bad image (not an image, a bomb, truncated, too many pixels, a type other than declared) is
recorded on the product as rejected with its code and never retried; the event still succeeds.
An AWS failure propagates, so the queue delivers the event again.

Availability is deliberately not re-indexed: it changes often (every sale may flip it) and
would force a re-upsert of every vector of the product. The search step reads each result's
product anyway and drops what cannot be bought when asked to, so the vectors' ``in_stock`` is
only as fresh as the product's last embedding and is not used to filter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL.Image import Image
from pydantic import BaseModel

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.shops.domain import Product, ProductImage, Shop
from chatshop.shops.media import MAX_IMAGE_BYTES
from chatshop.shops.product_store import IndexState, StoredVersion

from .documents import (
    ProductDocument,
    image_object_key,
    image_vector_key,
    local_image_key,
    product_document,
)
from .embedding import Embedder
from .images import ImageRejected, ImageTooLarge
from .lexical import LexicalEntry
from .local_features import Features
from .local_store import LocalImage
from .vectors import VectorRecord

# An image's state: its CLIP vector and its local features are in the indexes.
INDEXED = "indexed:local"
# What an indexer wrote before local features: the image is embedded again on its product's next event.
CLIP_ONLY = "indexed"
IMAGE_MISSING = "image_missing"

# Bytes and their declared content type in, an RGB picture out, or an ImageRejected raised.
ImageValidator = Callable[[bytes, str | None], Image]


class IndexEvent(BaseModel):
    event: Literal["ProductCreated", "ProductModified", "ProductDeleted"]
    shop_id: str
    product_id: str
    event_id: str | None = None
    sequence: str | int | None = None


class IndexStateStore(Protocol):
    def get(self, shop_id: str, product_id: str) -> StoredVersion | None: ...
    def get_index_state(self, shop_id: str, product_id: str) -> IndexState | None: ...
    def put_index_state(self, state: IndexState) -> None: ...
    def delete_index_state(self, shop_id: str, product_id: str) -> None: ...
    def record_image_index(self, shop_id: str, product_id: str, image: ProductImage) -> bool: ...


class IndexStateWriter(IndexStateStore, Protocol):
    def write_index_states(self, puts: Sequence[IndexState], deletes: Sequence[tuple[str, str]]) -> None: ...


class ShopReader(Protocol):
    def get(self, shop_id: str) -> Shop | None: ...


class ShopsOfBatch:
    """A ShopReader that reads each shop once per batch: a batch's jobs are mostly one shop's
    products (an import), and its fifty reads of the same shop were a third of the indexer's reads.
    A shop closed meanwhile is seen by the next batch, and its purge queues jobs of its own."""

    def __init__(self, shops: ShopReader) -> None:
        self._shops = shops
        self._read: dict[str, Shop | None] = {}

    def get(self, shop_id: str) -> Shop | None:
        if shop_id not in self._read:
            self._read[shop_id] = self._shops.get(shop_id)
        return self._read[shop_id]


class BatchReadableStore(IndexStateWriter, Protocol):
    def get_with_index_states(
        self, keys: Sequence[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], StoredVersion], dict[tuple[str, str], IndexState]]: ...


class ProductsOfBatch:
    """An IndexStateStore that reads the batch's products and their index states up front, together
    (one BatchGetItem for fifty jobs, where each job made three reads: its product for the text
    prefetch, again for itself, and its index state). The product is read once the batch was
    received, after the change its job announces; a later change queues a job of its own. Writes,
    and reads of products outside the batch, go to the store."""

    def __init__(self, store: BatchReadableStore, keys: Sequence[tuple[str, str]]) -> None:
        self._store = store
        self._keys = frozenset(keys)
        self._products, self._states = (
            store.get_with_index_states(list(dict.fromkeys(keys))) if keys else ({}, {})
        )

    def get(self, shop_id: str, product_id: str) -> StoredVersion | None:
        key = (shop_id, product_id)
        if key in self._keys:
            return self._products.get(key)
        return self._store.get(shop_id, product_id)

    def get_many(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, StoredVersion]:
        found = {}
        for product_id in product_ids:
            stored = self.get(shop_id, product_id)
            if stored is not None:
                found[product_id] = stored
        return found

    def get_index_state(self, shop_id: str, product_id: str) -> IndexState | None:
        key = (shop_id, product_id)
        if key in self._keys:
            return self._states.get(key)
        return self._store.get_index_state(shop_id, product_id)

    def put_index_state(self, state: IndexState) -> None:
        self._store.put_index_state(state)

    def write_index_states(self, puts: Sequence[IndexState], deletes: Sequence[tuple[str, str]]) -> None:
        self._store.write_index_states(puts, deletes)

    def delete_index_state(self, shop_id: str, product_id: str) -> None:
        self._store.delete_index_state(shop_id, product_id)

    def record_image_index(self, shop_id: str, product_id: str, image: ProductImage) -> bool:
        return self._store.record_image_index(shop_id, product_id, image)


class IndexWriter(Protocol):
    def apply(
        self, space: str, shop_id: str, upserts: Sequence[VectorRecord], deletes: Sequence[str]
    ) -> None: ...


class LexicalWriter(Protocol):
    def apply(self, shop_id: str, upserts: Sequence[LexicalEntry], deletes: Sequence[str]) -> None: ...


class LocalWriter(Protocol):
    """Where product images' local features go (``chatshop.search.local_store.LocalFeatureStore``)."""

    def apply(self, shop_id: str, upserts: Sequence[LocalImage], deletes: Sequence[str]) -> None: ...


class ObjectReader(Protocol):
    def read(self, key: str, max_bytes: int) -> bytes | None: ...


class MediaObjects:
    """Data access: objects of the media bucket, read whole, refused above a size."""

    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.require("media_bucket")
        self._s3 = aws.client("s3", settings)

    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The object's bytes; None if there is no such object; ImageTooLarge above ``max_bytes``."""
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
        except (self._s3.exceptions.NoSuchKey, self._s3.exceptions.NoSuchBucket):
            return None
        if int(response.get("ContentLength", 0)) > max_bytes:
            response["Body"].close()
            raise ImageTooLarge(f"The image is larger than {max_bytes} bytes.")
        return response["Body"].read()


@dataclass
class Outcome:
    """What one event did, for the log."""

    action: Literal["indexed", "removed", "unchanged"]
    text_embedded: bool = False
    images_embedded: int = 0
    images_removed: int = 0
    images_rejected: dict[str, str] = field(default_factory=dict)


@dataclass
class Indexer:
    products: IndexStateStore
    shops: ShopReader
    embedder: Embedder
    vectors: IndexWriter
    lexicon: LexicalWriter
    media: ObjectReader
    validate_image: ImageValidator
    local: LocalWriter
    # A product image's local features (``chatshop.search.local_features.catalog_features``).
    local_features: Callable[[Image], Features]

    def handle(self, shop_id: str, product_id: str) -> Outcome:
        stored = self.products.get(shop_id, product_id)
        shop = self.shops.get(shop_id)
        state = self.products.get_index_state(shop_id, product_id)
        if stored is None or shop is None:
            return self._remove(shop_id, product_id, state)
        return self._index(product_document(stored.product, shop.country), stored.product, state)

    def _remove(self, shop_id: str, product_id: str, state: IndexState | None) -> Outcome:
        image_ids = list(state.images) if state else []
        image_keys = [image_vector_key(product_id, image_id) for image_id in image_ids]
        self.vectors.apply("text", shop_id, [], [product_id])
        self.vectors.apply("image", shop_id, [], image_keys)
        self.local.apply(shop_id, [], [local_image_key(shop_id, product_id, i) for i in image_ids])
        self.lexicon.apply(shop_id, [], [product_id])
        if state is not None:
            self.products.delete_index_state(shop_id, product_id)
        return Outcome("removed", images_removed=len(image_keys))

    def _index(self, document: ProductDocument, product: Product, state: IndexState | None) -> Outcome:
        previous = state or IndexState(document.shop_id, document.product_id, document.metadata.country)
        outcome = Outcome("unchanged")
        wanted = (document.text_hash, document.metadata.country)
        text_changed = (previous.text_hash, previous.country) != wanted
        if text_changed:
            self._embed_text(document)
            outcome.text_embedded = True
        images = self._apply_images(document, product, previous.images, outcome)
        if text_changed or images != previous.images:
            outcome.action = "indexed"
            self.products.put_index_state(
                IndexState(
                    shop_id=document.shop_id,
                    product_id=document.product_id,
                    country=document.metadata.country,
                    text_hash=document.text_hash,
                    images=images,
                )
            )
        self._show_image_status(product, images)
        return outcome

    def _embed_text(self, document: ProductDocument) -> None:
        vector = self.embedder.embed_texts([document.text])[0]
        record = VectorRecord(document.product_id, vector, document.metadata)
        self.vectors.apply("text", document.shop_id, [record], [])
        entry = LexicalEntry.of(
            document.product_id,
            document.shop_id,
            document.metadata.country,
            document.retailer_id,
            document.title,
            document.brand,
        )
        self.lexicon.apply(document.shop_id, [entry], [])

    def _apply_images(
        self, document: ProductDocument, product: Product, previous: dict[str, str], outcome: Outcome
    ) -> dict[str, str]:
        """The new image states: embeds images not seen before, removes vectors of vanished ones."""
        declared = {image.id: image.content_type for image in product.images}
        images = {
            image_id: status
            for image_id, status in previous.items()
            if image_id in declared and status != CLIP_ONLY
        }
        gone = [image_id for image_id, status in previous.items() if image_id not in declared]
        accepted: list[tuple[str, Image]] = []
        for image_id in document.image_ids:
            if image_id in images:
                continue
            verdict = self._load_image(image_object_key(document, image_id), declared[image_id])
            if isinstance(verdict, str):
                images[image_id] = verdict
                outcome.images_rejected[image_id] = verdict
            else:
                accepted.append((image_id, verdict))
        if accepted:
            vectors = self.embedder.embed_images([image for _, image in accepted])
            records = [
                VectorRecord(image_vector_key(document.product_id, image_id), vector, document.metadata)
                for (image_id, _), vector in zip(accepted, vectors, strict=True)
            ]
            self.vectors.apply("image", document.shop_id, records, [])
            country = document.metadata.country
            local = [
                LocalImage(
                    local_image_key(document.shop_id, document.product_id, image_id),
                    country,
                    self.local_features(image),
                )
                for image_id, image in accepted
            ]
            self.local.apply(document.shop_id, local, [])
            images.update((image_id, INDEXED) for image_id, _ in accepted)
            outcome.images_embedded = len(accepted)
        if gone:
            keys = [image_vector_key(document.product_id, image_id) for image_id in gone]
            self.vectors.apply("image", document.shop_id, [], keys)
            self.local.apply(
                document.shop_id,
                [],
                [local_image_key(document.shop_id, document.product_id, image_id) for image_id in gone],
            )
            outcome.images_removed = len(gone)
        return images

    def _load_image(self, key: str, declared_type: str) -> Image | str:
        """The validated image, or the code it is rejected with."""
        try:
            data = self.media.read(key, MAX_IMAGE_BYTES)
            if data is None:
                return IMAGE_MISSING
            return self.validate_image(data, declared_type)
        except ImageRejected as exc:
            return exc.code

    def _show_image_status(self, product: Product, images: dict[str, str]) -> None:
        """Tell the merchant, on the product itself, which images search can see and why not."""
        for image in product.images:
            status = images.get(image.id)
            if status is None:
                continue
            wanted = (
                image.model_copy(update={"index_status": "indexed", "index_error": None})
                if status == INDEXED
                else image.model_copy(update={"index_status": "rejected", "index_error": status})
            )
            if (wanted.index_status, wanted.index_error) != (image.index_status, image.index_error):
                self.products.record_image_index(product.shop_id, product.id, wanted)
