"""Product changes from the shops table's stream, as jobs for the search indexer.

The stream carries every write to the shops table. Only product items matter to the index, and of
their changes only those that alter what is indexed: the catalog fields (their content hash covers
title, brand, description and availability), availability itself, and which images the product
has. Anything else written to a product, such as the status the indexer records on each image, is
not passed on, so the indexer's own bookkeeping never comes back to it as a job.

A job names the product, not its content: the indexer reads the product as it is when the job runs,
so jobs delivered twice or out of order still leave the index matching the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.platform.observability import get_logger

ChangeKind = Literal["ProductCreated", "ProductModified", "ProductDeleted"]

# The key prefixes of a product item (see chatshop.shops.tables); a test keeps them in step.
SHOP_KEY_PREFIX = "SHOP#"
PRODUCT_KEY_PREFIX = "PRODUCT#"

# SendMessageBatch's most entries per call.
SEND_BATCH = 10

_KINDS: dict[str, ChangeKind] = {
    "INSERT": "ProductCreated",
    "MODIFY": "ProductModified",
    "REMOVE": "ProductDeleted",
}


@dataclass(frozen=True)
class ProductChange:
    """One index job: the message the indexer receives on the index queue."""

    event: ChangeKind
    shop_id: str
    product_id: str
    event_id: str  # the stream record's eventID
    sequence: str  # the stream record's SequenceNumber, to tell older from newer

    def to_message(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def product_change(record: Mapping[str, Any]) -> ProductChange | None:
    """The index job a DynamoDB stream record (as Lambda delivers it) calls for, or None."""
    stream = record.get("dynamodb") or {}
    product = product_of(stream.get("Keys") or {})
    kind = _KINDS.get(str(record.get("eventName")))
    if product is None or kind is None:
        return None
    if kind == "ProductModified" and not indexed_content_changed(
        stream.get("OldImage"), stream.get("NewImage")
    ):
        return None
    shop_id, product_id = product
    return ProductChange(kind, shop_id, product_id, str(record["eventID"]), str(stream["SequenceNumber"]))


def product_of(keys: Mapping[str, Any]) -> tuple[str, str] | None:
    """(shop id, product id) when the keys are a product item's, else None."""
    pk, sk = _string(keys.get("pk")), _string(keys.get("sk"))
    if pk is None or sk is None:
        return None
    if not (pk.startswith(SHOP_KEY_PREFIX) and sk.startswith(PRODUCT_KEY_PREFIX)):
        return None
    shop_id, product_id = pk.removeprefix(SHOP_KEY_PREFIX), sk.removeprefix(PRODUCT_KEY_PREFIX)
    return (shop_id, product_id) if shop_id and product_id else None


def indexed_content_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Whether a product write changed anything the index holds.

    Without both images (a stream that does not carry them) nothing can be ruled out: changed.
    """
    if not old or not new:
        return True
    return indexed_view(old) != indexed_view(new)


def indexed_view(image: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a product item (in DynamoDB's JSON) the index depends on."""
    images = (image.get("images") or {}).get("M") or {}
    return (
        _string(image.get("content_hash")),
        _string(image.get("availability")),
        frozenset(
            (image_id, _string(((value or {}).get("M") or {}).get("content_type")))
            for image_id, value in images.items()
        ),
    )


def _string(value: Any) -> str | None:
    return value.get("S") if isinstance(value, Mapping) else None


class IndexQueue:
    """Data access: the queue the indexer consumes."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("index_queue")
        self._sqs = aws.client("sqs", settings)

    def send(self, change: ProductChange) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=change.to_message())

    def send_in_order(self, changes: Sequence[ProductChange]) -> int | None:
        """Queue ``changes`` in their order, ten to a call (a 5,000-row import is 500 calls, not 5,000).

        Stops at the first change that could not be queued and says where it is (None: all were), so
        the stream is retried from that change and nothing after it was queued ahead of it.
        """
        for start in range(0, len(changes), SEND_BATCH):
            chunk = changes[start : start + SEND_BATCH]
            entries = [{"Id": str(i), "MessageBody": change.to_message()} for i, change in enumerate(chunk)]
            try:
                response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            except (BotoCoreError, ClientError):
                get_logger().exception("Index jobs not queued", extra={"jobs": len(chunk)})
                return start
            failed = response.get("Failed", [])
            if failed:
                codes = sorted({str(entry.get("Code")) for entry in failed})
                get_logger().warning("Index jobs not queued", extra={"jobs": len(failed), "codes": codes})
                return start + min(int(entry["Id"]) for entry in failed)
        return None
