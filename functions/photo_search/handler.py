"""Photo search worker: answers a photo a customer sent in the chat with the shop's closest products.

Jobs come from the inbound worker (SQS, partial batch failures). Each is idempotent on the
customer's message id: the answer is stored once, so a job delivered again sends nothing twice.
The models and the indexes load on the first job of a container, not on import.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from PIL.Image import Image

from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.photo_queue import PhotoSearchJob
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.platform.rollout import load_rollout
from chatshop.search.chat import CustomerPhotos, PhotoSearch, product_image_link
from chatshop.search.service import SearchResult, SearchService, resolve_scope, search_service_for
from chatshop.shops.media import MediaBucket
from chatshop.shops.shop_store import ShopStore

settings = load_settings()
logger = get_logger()


@cache
def search_service() -> SearchService:
    from chatshop.search.embedder import SentenceTransformersEmbedder

    embedder = SentenceTransformersEmbedder(settings)
    if not embedder.image_model_trained:
        # Photos are then ranked by the local-feature matcher alone (see chatshop.search.service).
        logger.info("Photo search ranks by local features: no trained image model is configured")
    return search_service_for(settings, embedder)


@cache
def shops() -> ShopStore:
    return ShopStore(settings)


def find_in_shop(image: Image, shop_id: str, limit: int) -> Sequence[SearchResult]:
    # The same gate as the search API (visual search live for the shop's country, here); a customer
    # in the chat can only order what is available, so the rest is not offered.
    scope = resolve_scope(shops(), load_rollout(settings=settings), settings.region, shop_id, None, True)
    return search_service().by_image(image, scope, limit)


def catalog_of(channels: ChannelStore, shop_id: str) -> str | None:
    channel = channels.for_shop(shop_id)
    return channel.catalog_id if channel is not None else None


@cache
def photo_search() -> PhotoSearch:
    channels = ChannelStore(settings)
    return PhotoSearch(
        photos=CustomerPhotos(settings),
        find=find_in_shop,
        catalog_of=lambda shop_id: catalog_of(channels, shop_id),
        image_link=product_image_link(MediaBucket(settings)),
        store=ConversationStore(settings),
        outbox=OutboundQueue(settings),
        # The shop's country and language decide the answer's words where the job names no language.
        shop_of=shops().get,
    )


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, PhotoSearchJob)
    answer = photo_search().answer(job)
    # No customer number in the log: the message id ties it to the conversation.
    logger.info(
        "Photo answered",
        extra={
            "shop_id": job.shop_id,
            "reply_to": job.reply_to,
            "outcome": answer.outcome,
            "products": list(answer.product_ids),
            "reason": answer.reason,
        },
    )


handler = sqs_batch_handler(handle_record)
