"""Data access for the assistant's two queues: questions out to the question worker, and its
answers back into the inbound FIFO queue, in the conversation's own message group."""

from __future__ import annotations

import json

from chatshop.messaging.webhook import sqs_safe_id
from chatshop.platform import aws
from chatshop.platform.config import Settings

from .questions import Answer, QuestionJob


def conversation_group(phone_number_id: str, customer: str) -> str:
    """The inbound queue's message group of a conversation: the one the webhook uses."""
    return sqs_safe_id(f"{phone_number_id}:{customer}")


class QuestionQueue:
    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("question_queue")
        self._sqs = aws.client("sqs", settings)

    def ask(self, job: QuestionJob) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=job.model_dump_json())


class InboundReturn:
    """Units the assistant's other workers put back into the inbound queue, so that the inbound
    worker, alone and in the conversation's order, applies them."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.require("inbound_queue")
        self._sqs = aws.client("sqs", settings)

    def answer(self, answer: Answer) -> None:
        self.send(answer.phone_number_id, answer.customer, answer.reply_id, answer.unit())

    def send(self, phone_number_id: str, customer: str, dedup_id: str, body: dict) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(body, separators=(",", ":")),
            MessageGroupId=conversation_group(phone_number_id, customer),
            # An answer computed twice (its job delivered again) is applied once.
            MessageDeduplicationId=sqs_safe_id(dedup_id),
        )
