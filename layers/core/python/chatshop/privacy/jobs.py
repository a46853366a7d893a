"""The privacy queue: a request to run, from the route or the chat to the privacy worker."""

from __future__ import annotations

from chatshop.platform import aws
from chatshop.platform.config import Settings

from .requests import PrivacyJob

MAX_DELAY_S = 900  # SQS's longest delay


class PrivacyQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("privacy_queue")
        self._sqs = aws.client("sqs", settings)

    def send(self, job: PrivacyJob, delay_s: int = 0) -> None:
        self._sqs.send_message(
            QueueUrl=self._url, MessageBody=job.model_dump_json(), DelaySeconds=min(delay_s, MAX_DELAY_S)
        )
