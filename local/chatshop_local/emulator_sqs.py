"""Keeps moto's SQS faithful and cheap while queues are busy.

Receives are atomic per queue. moto picks a queue's visible messages and marks them received
without a lock, so two pollers receiving at the same moment could both get one message (each
with its own receive count), which SQS never does: a message would be handled twice at once and
reach its dead-letter queue early. Here one receive at a time selects from a queue; the long poll's
waiting happens outside that lock.

moto 5.2 rebuilds a queue's whole attribute set, counting every message three times over, whenever
it reads one attribute: four times per message sent (is deduplication by content on?) and once per
message received (its retention period). A queue holding a few hundred messages then costs ~15 ms
per send and more per receive, so a queue that falls behind falls further behind. Here a queue's
attributes are a mapping that reads each attribute from the queue when it is asked for, so only a
caller that asks for the message counts pays for counting.

Receiving and deleting scan the whole queue: moto reads the clock twice per message held to tell
the visible ones, and walks every message twice per deleted receipt handle, building a list of its
handles each time. With the index queue holding an import's 5,000 jobs, a receive of ten and the
delete of those ten cost the emulator ~75 ms, while every other call of the stack waited on its
GIL; here the clock is read once per scan and a handle is compared in place (~8 ms).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores, unix_time_millis
from moto.sqs.exceptions import ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend


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


_locks_guard = threading.Lock()


def _receive_lock(queue: Queue) -> threading.Lock:
    with _locks_guard:
        lock = getattr(queue, "_chatshop_receive_lock", None)
        if lock is None:
            lock = queue._chatshop_receive_lock = threading.Lock()  # type: ignore[attr-defined]
        return lock


def atomic_receive(receive: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    def receive_message(
        backend: SQSBackend,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> list[Any]:
        queue = backend.get_queue(queue_name)
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with _receive_lock(queue):
                result = receive(backend, queue_name, count, 0, visibility_timeout, message_attribute_names)
            remaining = deadline - time.monotonic()
            if result or remaining <= 0:
                return result
            queue.wait_for_messages(min(1.0, remaining))  # type: ignore[arg-type]

    return receive_message


def install_atomic_receive() -> None:
    if not getattr(SQSBackend.receive_message, "_chatshop_atomic", False):
        patched = atomic_receive(SQSBackend.receive_message)
        patched._chatshop_atomic = True  # type: ignore[attr-defined]
        SQSBackend.receive_message = patched  # type: ignore[method-assign]


_moto_messages = Queue.messages
_moto_delete_message = Queue.delete_message


def visible_messages(queue: Queue) -> list[Message]:
    """moto's ``Queue.messages`` (visible and not delayed, in order) as of one reading of the clock."""
    now = unix_time_millis()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def delete_message(queue: Queue, receipt_handle: str) -> None:
    """moto's ``Queue.delete_message``: a handle deletes the message it was ever given for."""
    if receipt_handle in queue.deleted_messages:
        return  # deleting again is harmless
    # Under the lock moto appends a sent message under, and into a new list: a message sent meanwhile
    # is never lost (moto's rebuild could drop one), and a scan of the old list by another thread
    # (a receive, another delete) is never shifted under its feet, as removing in place would.
    with queue._messages_lock:  # type: ignore[attr-defined]
        messages = queue._messages
        matching = [
            message
            for message in messages
            if message.receipt_handle == receipt_handle or receipt_handle in message._old_receipt_handles
        ]
        if not matching:
            raise ReceiptHandleIsInvalid()
        for message in matching:
            queue.pending_messages.discard(message)
            queue.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]
        gone = {id(message) for message in matching}
        queue._messages = [message for message in messages if id(message) not in gone]


def install_cheap_scans() -> None:
    Queue.messages = property(visible_messages)  # type: ignore[assignment]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
