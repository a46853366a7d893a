"""Data access for the broadcast queue: one job per page of a broadcast's customers."""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .domain import BroadcastJob


class BroadcastQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("broadcast_queue")
        self._sqs = aws.client("sqs", settings)

    def send(self, job: BroadcastJob) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=job.model_dump_json())
