"""S3 event notifications to functions.

The emulator cannot invoke Lambda, but it does deliver bucket notifications to SQS. Each S3 event of
the template gets a local relay queue with the event's filter; a relay loop hands each notification
to the function as the ``{"Records": [...]}`` event Lambda receives. A failing invocation is retried
twice through the relay queue, like Lambda's asynchronous invocations, then parked in a relay DLQ.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .functions import InvocationResult
from .loops import BackgroundLoop

log = logging.getLogger("chatshop.local.s3")

_ASYNC_ATTEMPTS = 3  # the first try and Lambda's two retries of an asynchronous invocation


@dataclass(frozen=True)
class S3Mapping:
    function: str
    event_name: str
    bucket: str
    events: tuple[str, ...]
    filter_rules: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RelayQueue:
    mapping: S3Mapping
    url: str
    arn: str


def create_relays(mappings: Iterable[S3Mapping], sqs: Any, s3: Any, retry_after_s: int) -> list[RelayQueue]:
    relays = [_create_relay_queue(m, sqs, retry_after_s) for m in mappings]
    by_bucket: dict[str, list[RelayQueue]] = defaultdict(list)
    for relay in relays:
        by_bucket[relay.mapping.bucket].append(relay)
    for bucket, bucket_relays in by_bucket.items():
        # One call per bucket: the configuration replaces whatever the bucket had.
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [_queue_configuration(r) for r in bucket_relays]
            },
        )
    return relays


def _create_relay_queue(mapping: S3Mapping, sqs: Any, retry_after_s: int) -> RelayQueue:
    base = f"chatshop-local-s3-{mapping.function}-{mapping.event_name}"[:70]
    dlq_url = sqs.create_queue(QueueName=f"{base}-dlq")["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    url = sqs.create_queue(
        QueueName=base,
        Attributes={
            "VisibilityTimeout": str(retry_after_s),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": _ASYNC_ATTEMPTS}),
        },
    )["QueueUrl"]
    return RelayQueue(mapping, url, _queue_arn(sqs, url))


def _queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _queue_configuration(relay: RelayQueue) -> dict[str, Any]:
    configuration: dict[str, Any] = {
        "Id": f"{relay.mapping.function}-{relay.mapping.event_name}",
        "QueueArn": relay.arn,
        "Events": list(relay.mapping.events),
    }
    if relay.mapping.filter_rules:
        configuration["Filter"] = {
            "Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in relay.mapping.filter_rules]}
        }
    return configuration


class S3EventRelay(BackgroundLoop):
    def __init__(self, relay: RelayQueue, sqs: Any, invoke: Callable[[str, dict], InvocationResult]) -> None:
        super().__init__()
        self.relay = relay
        self._sqs = sqs
        self._invoke = invoke
        self.name = f"s3:{relay.mapping.bucket}->{relay.mapping.function}"

    def step(self) -> None:
        response = self._sqs.receive_message(
            QueueUrl=self.relay.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in response.get("Messages", []):
            if self.deliver(json.loads(message["Body"])):
                self._sqs.delete_message(QueueUrl=self.relay.url, ReceiptHandle=message["ReceiptHandle"])

    def deliver(self, notification: dict[str, Any]) -> bool:
        """True when the notification is done with: delivered, or not an object event at all."""
        if "Records" not in notification:
            return True  # the s3:TestEvent S3 sends when notifications are configured
        result = self._invoke(self.relay.mapping.function, notification)
        if not result.ok:
            log.warning("%s failed on an S3 event; it will be retried", self.relay.mapping.function)
        return result.ok
