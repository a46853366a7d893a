"""What of a product the search index holds: the text that is embedded, its images, its metadata.

The indexer compares a product's document with what it indexed last time and embeds only what
changed: a new text hash re-embeds the text, a new image id embeds that image, a vanished one is
deleted. Availability is not part of either, so a stock change never re-embeds anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chatshop.shops.domain import Product
from chatshop.shops.media import image_key

from .vectors import VectorMetadata

# Part of every text hash: bump it when the embedded text's recipe changes, and the next event of
# each product re-embeds it.
TEXT_RECIPE = "v1"
# MiniLM reads at most 256 word pieces; the rest of a long description would be cut by the model
# anyway, so it is cut here and a change beyond it does not re-embed.
MAX_EMBEDDED_CHARS = 2000

# Products that can be ordered now; the others are hidden by an in-stock search.
PURCHASABLE = frozenset({"in stock", "available for order", "preorder"})

_KEY_SEPARATOR = ":"


@dataclass(frozen=True)
class ProductDocument:
    product_id: str
    shop_id: str
    retailer_id: str
    title: str
    brand: str | None
    text: str
    text_hash: str
    image_ids: tuple[str, ...]
    metadata: VectorMetadata


def product_document(product: Product, country: str) -> ProductDocument:
    text = embedded_text(product)
    return ProductDocument(
        product_id=product.id,
        shop_id=product.shop_id,
        retailer_id=product.retailer_id,
        title=product.title,
        brand=product.brand,
        text=text,
        text_hash=text_hash(text),
        image_ids=tuple(sorted(image.id for image in product.images)),
        metadata=VectorMetadata(
            shop_id=product.shop_id, country=country, in_stock=product.availability in PURCHASABLE
        ),
    )


def embedded_text(product: Product) -> str:
    """Title, brand and description: what a customer's words are matched against."""
    parts = [product.title.strip(), (product.brand or "").strip(), product.description.strip()]
    return ". ".join(part for part in parts if part)[:MAX_EMBEDDED_CHARS]


def text_hash(text: str) -> str:
    return hashlib.sha256(f"{TEXT_RECIPE}\x00{text}".encode()).hexdigest()


def image_vector_key(product_id: str, image_id: str) -> str:
    """A product has one text vector (keyed by its id) and one image vector per image."""
    return f"{product_id}{_KEY_SEPARATOR}{image_id}"


def product_id_of(vector_key: str) -> str:
    return vector_key.split(_KEY_SEPARATOR, 1)[0]


def local_image_key(shop_id: str, product_id: str, image_id: str) -> str:
    """An image in the local-feature indexes, whose region index answers without metadata: the
    shop comes with the key, so a marketplace match finds its product."""
    return f"{shop_id}/{image_vector_key(product_id, image_id)}"


def shop_and_product_of(local_key: str) -> tuple[str, str]:
    shop_id, vector_key = local_key.split("/", 1)
    return shop_id, product_id_of(vector_key)


def image_object_key(product: Product | ProductDocument, image_id: str) -> str:
    product_id = product.id if isinstance(product, Product) else product.product_id
    return image_key(product.shop_id, product_id, image_id)
