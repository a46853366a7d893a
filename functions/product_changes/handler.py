"""Product changes: the shops table's stream to the search index queue (partial batch failures).

The batch's jobs are queued in stream order, ten to a call. The first record whose job cannot be
queued (or that cannot be read) is reported as the batch's failure; Lambda retries the shard from
it, so the jobs of the records before it are not sent twice, and gives up on it after the event
source's retries.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger
from chatshop.search.changes import IndexQueue, ProductChange, product_change

settings = load_settings()
logger = get_logger()


@cache
def index_queue() -> IndexQueue:
    return IndexQueue(settings)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    jobs: list[tuple[dict[str, Any], ProductChange]] = []
    unreadable: dict[str, Any] | None = None
    for record in records:
        try:
            change = product_change(record)
        except Exception:  # noqa: BLE001 - an unreadable record fails the batch from it, as Lambda retries
            logger.exception("Stream record unreadable", extra={"event_id": record.get("eventID")})
            unreadable = record
            break
        if change is not None:
            jobs.append((record, change))
    queued = index_queue().send_in_order([change for _, change in jobs])
    first_failed = jobs[queued][0] if queued is not None else unreadable
    failures = [] if first_failed is None else [{"itemIdentifier": _sequence_number(first_failed)}]
    logger.info("Product changes handled", extra={"records": len(records), "failed": len(failures)})
    return {"batchItemFailures": failures}


def _sequence_number(record: dict[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
