"""Inbound worker: each webhook unit from the FIFO queue, in conversation order (partial failures)."""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import handle_unit
from chatshop.messaging.graph_client import GraphClient
from chatshop.messaging.media_fetch import MediaBucketWriter, MediaFetcher
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.photo_queue import PhotoSearchQueue
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform.batch import sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def dependencies() -> tuple[ConversationStore, OutboundQueue, MediaFetcher, PhotoSearchQueue | None]:
    media = MediaFetcher(GraphClient(settings), TokenVault(settings), MediaBucketWriter(settings))
    # Without a photo search queue (search not deployed here), a photo is acknowledged like any message.
    photos = PhotoSearchQueue(settings) if settings.photo_search_queue else None
    return ConversationStore(settings), OutboundQueue(settings), media, photos


def handle_record(record: SQSRecord) -> None:
    store, outbox, media, photos = dependencies()
    body = json.loads(record.body)
    result = handle_unit(store, outbox, media, body, photos)
    logger.info("Inbound unit handled", extra={"outcome": result.outcome, "kind": body.get("kind")})


# Idempotent on the WhatsApp id inside handle_unit; a failure holds back the rest of its conversation.
handler = sqs_batch_handler(handle_record, fifo=True)
