"""Data access for the photo search queue: a customer's photo, handed to the worker that can embed it.

The inbound worker is a light function without ML libraries; the photo search function is the
search container with the models. A job names the photo already kept in the media bucket and the
message it answers, and the language the conversation speaks: the worker reads all the rest itself.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chatshop.platform import aws
from chatshop.platform.config import Settings

NonEmpty = Annotated[str, Field(min_length=1)]


class PhotoSearchJob(BaseModel):
    """Find the shop's products that look like the customer's photo, and answer the message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_id: NonEmpty
    phone_number_id: NonEmpty
    customer: NonEmpty  # the customer's wa_id
    media_key: NonEmpty  # the photo in the media bucket
    reply_to: NonEmpty  # the WhatsApp id of the customer's message
    # The conversation's language, as the assistant decided it; None: the shop's own (a photo that
    # came while no assistant answered the channel).
    language: Annotated[str, Field(min_length=1, max_length=16)] | None = None

    @property
    def reply_id(self) -> str:
        """Our one answer to the photo, however often the job runs (the ack uses ``ack-<id>``)."""
        return f"photo-{self.reply_to}"


class PhotoSearchQueue:
    """Its SQS client is made with the first photo sent on, not with the inbound worker."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._url = settings.require("photo_search_queue")

    def send(self, job: PhotoSearchJob) -> None:
        # Without a language the job reads as it did before it had one, so a worker deployed earlier
        # (which refuses fields it does not know) still takes it.
        aws.client("sqs", self._settings).send_message(
            QueueUrl=self._url, MessageBody=job.model_dump_json(exclude_none=True)
        )
