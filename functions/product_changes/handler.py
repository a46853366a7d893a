"""Product changes: the shops table's stream to the search index queue (partial batch failures).

A record that cannot be queued fails alone; Lambda retries the shard from it, so the jobs of the
records before it are not sent twice, and gives up on it after the event source's retries.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.search.changes import IndexQueue, product_change

settings = load_settings()
logger = get_logger()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def index_queue() -> IndexQueue:
    return IndexQueue(settings)


def handle_record(record: DynamoDBRecord) -> None:
    change = product_change(record.raw_event)
    if change is not None:
        index_queue().send(change)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
    logger.info(
        "Product changes handled",
        extra={
            "records": len(event.get("Records", [])),
            "failed": len(response.get("batchItemFailures", [])),
        },
    )
    return response
