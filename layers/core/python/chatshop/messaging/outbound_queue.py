"""Data access for the outbound queue: send jobs, delayed when a send must wait."""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .records import SendJob

MAX_DELAY_S = 900  # SQS's longest message delay


class OutboundQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("outbound_queue")
        self._sqs = aws.client("sqs", settings)

    def send(self, job: SendJob, delay_s: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=job.model_dump_json(),
            DelaySeconds=max(0, min(MAX_DELAY_S, delay_s)),
        )
