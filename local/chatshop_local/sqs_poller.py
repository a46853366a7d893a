"""SQS event source mappings: poll a queue, deliver batches, delete only what succeeded.

Like Lambda's poller: a batch goes to the function as an SQS event; if the function fails the whole
batch stays on the queue; with ReportBatchItemFailures only the reported messages stay. Messages left
on the queue come back after the visibility timeout, and the queue's redrive policy moves a message
that keeps failing to its dead-letter queue: retries are the queue's, not the poller's.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .functions import InvocationResult
from .loops import BackgroundLoop

log = logging.getLogger("chatshop.local.sqs")

_MAX_RECEIVE = 10  # SQS returns at most 10 messages a call
_LONG_POLL_S = 1  # short enough for a quick shutdown


@dataclass(frozen=True)
class SqsMapping:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class BatchOutcome:
    delivered: int
    deleted: int
    left: int


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda builds from an SQS ReceiveMessage result."""
    attributes = dict(message.get("Attributes", {}))
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: _lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda spells SQS message attributes in camelCase and always lists both list fields.
    converted: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = value["BinaryValue"]
    return converted


def failed_message_ids(result: InvocationResult, batch_ids: set[str], report_failures: bool) -> set[str]:
    """Which messages of a batch must stay on the queue after this invocation."""
    if not result.ok:
        return set(batch_ids)
    if not report_failures or not isinstance(result.payload, dict):
        return set()
    failures = result.payload.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(batch_ids)
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            # Lambda treats a malformed or unknown identifier as a failure of the whole batch.
            return set(batch_ids)
        failed.add(identifier)
    return failed


class SqsPoller(BackgroundLoop):
    def __init__(
        self,
        mapping: SqsMapping,
        sqs_client: Any,
        invoke: Callable[[str, dict], InvocationResult],
        region: str,
    ) -> None:
        super().__init__()
        self.mapping = mapping
        self._sqs = sqs_client
        self._invoke = invoke
        self._region = region
        self.name = f"sqs:{mapping.queue_arn.rsplit(':', 1)[-1]}->{mapping.function}"

    def step(self) -> None:
        self.poll_once()

    def receive_batch(self) -> list[dict[str, Any]]:
        messages = self._receive(min(_MAX_RECEIVE, self.mapping.batch_size), _LONG_POLL_S)
        window_ends = time.monotonic() + self.mapping.batching_window_s
        while messages and len(messages) < self.mapping.batch_size and time.monotonic() < window_ends:
            more = self._receive(min(_MAX_RECEIVE, self.mapping.batch_size - len(messages)), 0)
            if not more:
                self.wait(min(0.2, max(0.0, window_ends - time.monotonic())))
            messages.extend(more)
        return messages

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def poll_once(self) -> BatchOutcome | None:
        messages = self.receive_batch()
        if not messages:
            return None
        return self.deliver(messages)

    def deliver(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        records = [lambda_record(m, self.mapping.queue_arn, self._region) for m in messages]
        result = self._invoke(self.mapping.function, {"Records": records})
        failed = failed_message_ids(
            result, {m["MessageId"] for m in messages}, self.mapping.report_batch_item_failures
        )
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(done)
        if failed:
            log.warning(
                "%s left %d of %d messages on %s for redelivery",
                self.mapping.function,
                len(failed),
                len(messages),
                self.mapping.queue_arn.rsplit(":", 1)[-1],
            )
        return BatchOutcome(len(messages), len(done), len(failed))

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _MAX_RECEIVE):
            chunk = messages[start : start + _MAX_RECEIVE]
            response = self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failure in response.get("Failed", []):
                log.error("could not delete a processed message: %s", failure.get("Message"))
