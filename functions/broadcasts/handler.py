"""Broadcast worker: a page of a shop's opted-in customers at a time, each offer queued for the
sender (SQS, partial batch failures)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import queue_reply
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.records import OutboundRecord
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.recruiting import broadcasts
from chatshop.recruiting.broadcast_queue import BroadcastQueue
from chatshop.recruiting.broadcast_store import BroadcastStore
from chatshop.recruiting.consent_store import ConsentStore
from chatshop.recruiting.domain import BroadcastJob

settings = load_settings()
logger = get_logger()


class Outbox:
    """Offers stored and queued as every message of the channel is, once."""

    def __init__(self, store: ConversationStore, queue: OutboundQueue) -> None:
        self._store = store
        self._queue = queue

    def send(self, record: OutboundRecord) -> None:
        queue_reply(self._store, self._queue, record)


@cache
def parts() -> tuple[BroadcastStore, ConsentStore, BroadcastQueue, Outbox, ConversationStore]:
    messages = ConversationStore(settings)
    return (
        BroadcastStore(settings),
        ConsentStore(settings),
        BroadcastQueue(settings),
        Outbox(messages, OutboundQueue(settings)),
        messages,
    )


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, BroadcastJob)
    store, consents, queue, outbox, messages = parts()
    considered = broadcasts.run_page(store, consents, queue, outbox, messages, job, datetime.now(UTC))
    logger.info(
        "Broadcast page handled",
        extra={"broadcast_id": job.broadcast_id, "page": job.page, "considered": considered},
    )


# Idempotent per customer and broadcast (each outcome is written once).
handler = sqs_batch_handler(handle_record)
