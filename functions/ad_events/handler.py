"""Ad events: impressions and clicks from the event route, charged and counted once each (SQS,
partial batch failures). A message that cannot be read fails alone and ends in the dead-letter queue."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chatshop.ads.events import AdEvent, EventRecorder
from chatshop.platform.batch import parse_message, sqs_batch_handler
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def recorder() -> EventRecorder:
    return EventRecorder(settings)


def handle_record(record: SQSRecord) -> None:
    event = parse_message(record, AdEvent)
    outcome = recorder().record(event)
    # The user key stays out of the log: the event id and the campaign say which event it was.
    logger.info(
        "Ad event handled",
        extra={
            "event_id": event.event_id,
            "kind": event.kind,
            "campaign_id": event.campaign_id,
            "outcome": outcome,
        },
    )


handler = sqs_batch_handler(handle_record)
