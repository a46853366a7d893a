"""Indexer: keeps the search indexes in line with the catalog (SQS, partial batch failures).

Each message names a product that was created, changed or deleted; the indexer compares the
product with what it indexed and embeds only what changed. Idempotent by construction (it reads
the product as it is now), so a redelivered message does no harm and needs no idempotency table.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.search.batch_writes import BatchWrites
from chatshop.search.indexer import Indexer, IndexEvent, MediaObjects, ProductsOfBatch, ShopsOfBatch
from chatshop.search.text_prefetch import PrefetchingEmbedder, texts_of

settings = load_settings()
logger = get_logger()
LOCAL_STAGE = "local"  # the template's Stage under `chatshop dev`


@cache
def indexer() -> Indexer:
    from chatshop.search.embedder import SentenceTransformersEmbedder
    from chatshop.search.images import validate_image
    from chatshop.search.indexes import SearchIndexes
    from chatshop.search.lexical import LexicalStore
    from chatshop.search.local_features import catalog_features
    from chatshop.search.local_store import local_store_for
    from chatshop.shops.product_store import ProductStore
    from chatshop.shops.shop_store import ShopStore

    if settings.stage == LOCAL_STAGE:
        import torch

        # `chatshop dev` runs every function of the template in one process, on the machine's own
        # cores. Two intra-op threads there mostly spin-wait for a core (a 50-text batch took ~1 s
        # of CPU on a busy 2-core machine, 0.3 s on one thread) and starve the API beside them. A
        # Lambda sandbox has its CPUs to itself, so the deployed indexer keeps torch's default.
        torch.set_num_threads(1)
        import cv2

        # The same for OpenCV's SIFT and k-means (one setting for the whole process).
        cv2.setNumThreads(1)
    embedder = SentenceTransformersEmbedder(settings)
    local = local_store_for(settings)
    dimensions = {"image": embedder.image_dimensions, "text": embedder.text_dimensions}
    return Indexer(
        products=ProductStore(settings),
        shops=ShopStore(settings),
        embedder=embedder,
        vectors=SearchIndexes(settings, settings.region, dimensions),
        lexicon=LexicalStore(settings),
        media=MediaObjects(settings),
        validate_image=lambda data, declared_type: validate_image(data, declared_type).image,
        local=local,
        local_features=lambda image: catalog_features(image, local.params),
    )


def handle_record(batch: Indexer, record: SQSRecord) -> None:
    event = parse_message(record, IndexEvent)
    outcome = batch.handle(event.shop_id, event.product_id)
    logger.info(
        "Index event applied",
        extra={
            "event": event.event,
            "event_id": event.event_id,
            "shop_id": event.shop_id,
            "product_id": event.product_id,
            "action": outcome.action,
            "text_embedded": outcome.text_embedded,
            "images_embedded": outcome.images_embedded,
            "images_removed": outcome.images_removed,
            "images_rejected": outcome.images_rejected,
        },
    )


def products_named(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(shop id, product id) of each readable job of the batch; an unreadable one fails on its own."""
    keys = []
    for record in event.get("Records", []):
        try:
            job = IndexEvent.model_validate_json(record.get("body", ""))
        except ValidationError:
            continue
        keys.append((job.shop_id, job.product_id))
    return keys


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # The batch's index writes are applied together after its last event (see batch_writes).
    base = indexer()
    # The batch's products and index states are read together, once (see ProductsOfBatch).
    keys = products_named(event)
    products = ProductsOfBatch(base.products, keys)
    writes = BatchWrites(base.vectors, base.lexicon, products, base.local)
    # The batch's texts are embedded in one call (see text_prefetch).
    embedder = PrefetchingEmbedder(base.embedder)
    embedder.prefetch_texts(texts_of(products, keys))
    batch = replace(
        base,
        embedder=embedder,
        vectors=writes.vectors,
        lexicon=writes.lexicon,
        local=writes.local,
        products=writes.states,
        shops=ShopsOfBatch(base.shops),
    )
    response = sqs_batch_handler(partial(handle_record, batch))(event, context)
    writes.flush()
    return response
