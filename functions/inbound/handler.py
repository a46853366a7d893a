"""Inbound worker: each webhook unit from the FIFO queue, in conversation order (partial failures)."""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.conversations import handle_unit
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.platform.batch import sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def dependencies() -> tuple[ConversationStore, OutboundQueue]:
    return ConversationStore(settings), OutboundQueue(settings)


def handle_record(record: SQSRecord) -> None:
    store, outbox = dependencies()
    body = json.loads(record.body)
    result = handle_unit(store, outbox, body)
    logger.info("Inbound unit handled", extra={"outcome": result.outcome, "kind": body.get("kind")})


# Idempotent on the WhatsApp id inside handle_unit; a failure holds back the rest of its conversation.
handler = sqs_batch_handler(handle_record, fifo=True)
