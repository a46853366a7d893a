"""Data access for the outbound queue: send jobs, delayed when a send must wait."""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .records import SendJob

MAX_DELAY_S = 900  # SQS's longest message delay


class OutboundQueue:
    """Its SQS client is made with the first job sent: the sender queues one only to retry or wait
    out the rate limit, and the inbound worker only to answer, not for Meta's statuses."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._url = settings.require("outbound_queue")

    def send(self, job: SendJob, delay_s: int = 0) -> None:
        aws.client("sqs", self._settings).send_message(
            QueueUrl=self._url,
            MessageBody=job.model_dump_json(),
            DelaySeconds=max(0, min(MAX_DELAY_S, delay_s)),
        )
