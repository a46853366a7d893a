"""Data access for the inbound FIFO queue: one SQS message per webhook unit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .webhook import InboundUnit

_BATCH = 10


@dataclass(frozen=True)
class QueuedUnit:
    unit: InboundUnit
    shop_id: str
    archived_key: str


class InboundQueueError(RuntimeError):
    pass


class InboundQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("inbound_queue")
        self._sqs = aws.client("sqs", settings)

    def send_all(self, units: Sequence[QueuedUnit]) -> None:
        for start in range(0, len(units), _BATCH):
            entries = [_entry(str(i), queued) for i, queued in enumerate(units[start : start + _BATCH])]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                # Meta retries a webhook we do not answer with 200: failing here loses nothing.
                raise InboundQueueError(f"{len(response['Failed'])} webhook units could not be queued")


def _entry(entry_id: str, queued: QueuedUnit) -> dict:
    body = {**queued.unit.body, "shop_id": queued.shop_id, "archived_key": queued.archived_key}
    return {
        "Id": entry_id,
        "MessageBody": json.dumps(
            body, separators=(",", ":")
        ),  # ASCII: a lone surrogate must not break the send
        "MessageGroupId": queued.unit.group_id,
        "MessageDeduplicationId": queued.unit.dedup_id,
    }
