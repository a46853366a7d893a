"""Keeps moto's SQS calls cheap while queues are busy.

moto 5.2 rebuilds a queue's whole attribute set, counting every message three times over, whenever
it reads one attribute: four times per message sent (is deduplication by content on?) and once per
message received (its retention period). A queue holding a few hundred messages then costs ~15 ms
per send and more per receive, so a queue that falls behind falls further behind. Here a queue's
attributes are a mapping that reads each attribute from the queue when it is asked for, so only a
caller that asks for the message counts pays for counting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue


class _QueueAttributes(Mapping[str, Any]):
    """The attributes moto's Queue.attributes gives, each read on access."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        names = list(Queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += Queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]
            names += Queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)

    def __contains__(self, key: object) -> bool:
        return key in self._names

    def __getitem__(self, key: str) -> Any:
        if key not in self._names:
            raise KeyError(key)
        value = getattr(self._queue, camelcase_to_underscores(key))
        if key == "RedrivePolicy" and value:
            return json.dumps(value)
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def install_cheap_queue_attributes() -> None:
    Queue.attributes = property(_QueueAttributes)  # type: ignore[assignment]
