"""Sender: messages to customers through Meta's Graph API (SQS, partial batch failures)."""

from __future__ import annotations

import hashlib
from functools import cache

# Loaded before anything imports pydantic: powertools' batch module builds its pydantic parser models
# (a tenth of this cold start) only when pydantic is already loaded (batch/types.py reads
# sys.modules), and our batch handlers pass it no model.
import aws_lambda_powertools.utilities.batch  # noqa: F401
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.messaging.conversation_store import ConversationStore
from chatshop.messaging.graph_client import GraphClient
from chatshop.messaging.outbound_queue import OutboundQueue
from chatshop.messaging.records import SendJob
from chatshop.messaging.sender import Sender
from chatshop.messaging.token_vault import TokenVault
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def sender() -> Sender:
    return Sender(
        ConversationStore(settings), TokenVault(settings), GraphClient(settings), OutboundQueue(settings)
    )


def handle_record(record: SQSRecord) -> None:
    job = parse_message(record, SendJob)
    outcome = sender().send(job)
    # Outbound ids can embed Meta's message ids, which encode the customer's number: log a digest.
    reference = hashlib.sha256(job.outbound_id.encode()).hexdigest()[:16]
    logger.info(
        "Send job handled", extra={"outbound_ref": reference, "attempt": job.attempt, "outcome": outcome}
    )


handler = sqs_batch_handler(handle_record)
