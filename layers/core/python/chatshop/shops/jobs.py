"""Data access for the shops context's work queues: a JSON message on an SQS queue."""

from __future__ import annotations

import json
from typing import Any

from chatshop.platform import aws
from chatshop.platform.config import Settings


class JobQueue:
    def __init__(self, settings: Settings, queue_setting: str) -> None:
        self._url = settings.require(queue_setting)
        self._sqs = aws.client("sqs", settings)

    def send(self, message: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(message, sort_keys=True))
