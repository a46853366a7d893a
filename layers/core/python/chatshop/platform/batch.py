"""SQS consumers: powertools batch processing, so one bad message never re-runs its whole batch.

A record handler raises to fail its message alone; the batch answers ``batchItemFailures``
(the template's ``ReportBatchItemFailures``) and only the failed messages come back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from chatshop.platform.observability import get_logger

RecordHandler = Callable[[SQSRecord], Any]
M = TypeVar("M", bound=BaseModel)


def sqs_batch_handler(
    record_handler: RecordHandler, fifo: bool = False
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """``fifo``: after a failure, the rest of that message group is failed too, keeping its order."""
    processor: BatchProcessor | SqsFifoPartialProcessor = (
        SqsFifoPartialProcessor(skip_group_on_error=True)
        if fifo
        else BatchProcessor(event_type=EventType.SQS)
    )

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger = get_logger()
        logger.append_keys(batch_size=len(event.get("Records", [])))
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler


def parse_message(record: SQSRecord, model: type[M]) -> M:
    """A message body as ``model``; a body that does not fit fails its message (and so ends in the DLQ)."""
    return model.model_validate_json(record.body)
