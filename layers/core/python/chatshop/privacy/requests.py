"""Privacy requests: a customer's data exported or erased, everywhere the shop holds it.

The shop is the controller, so the merchant files the request for its customer (or the customer
asks in the chat, which files the same request). A request is a small record and a job: the job
carries the customer's number, the record never does, only a pseudonym (a keyed hash of the shop
and the number) that finds the customer's other requests and the orders kept for tax.

An export is every item and file held about the customer in that shop, as JSON plus the media,
in one zip in the media bucket, handed out by a presigned link for 24 hours. An erasure deletes
every item and object about them, except an order, which is a merchant's tax record: it is kept
with every personal field stripped and the customer's pseudonym in place of their number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RequestType = Literal["export", "erasure"]
RequestStatus = Literal["queued", "running", "done", "failed"]
RequestSource = Literal["api", "chat"]

EXPORT_LINK_LIFETIME = timedelta(hours=24)
# An erasure asked for in the chat waits this long, so the reply saying so is sent (and its
# statuses in) before everything about the customer goes.
CHAT_ERASURE_DELAY_S = 60
# An erasure is run again this long after it is done: status webhooks of the last messages, and a
# reply in flight when it ran, can still write about the customer for a moment after it.
SWEEP_DELAY_S = 900
# Steps of each kind of request, in order: each is idempotent, and done steps are skipped after a crash.
EXPORT_STEPS = ("archive",)
ERASURE_STEPS = ("files", "messages", "orders", "ads", "exports")
# A job taken this often without finishing marks its request failed (the queue's redrive count).
MAX_ATTEMPTS = 5

CUSTOMER_PATTERN = r"^\+?[0-9][0-9 ().\-]{6,24}$"


def wa_id_of(customer: str) -> str:
    """The WhatsApp id of a phone number written as people write it: digits with the country code."""
    return re.sub(r"\D", "", customer)


def pseudonym(secret: bytes, shop_id: str, wa_id: str) -> str:
    """The customer as the shop's records may still name them after erasure: keyed, so the number
    cannot be recovered by hashing every number (a plain hash of a phone number can)."""
    mac = hmac.new(secret, f"privacy\x00{shop_id}\x00{wa_id}".encode(), hashlib.sha256).hexdigest()
    return f"erased_{mac[:32]}"


def new_request_id() -> str:
    return f"pr_{secrets.token_hex(12)}"


class PrivacyRequestCreate(BaseModel):
    """``POST /shops/{shop_id}/privacy/requests``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: RequestType
    customer: Annotated[
        str,
        Field(
            pattern=CUSTOMER_PATTERN,
            description="The customer's WhatsApp number with its country code, e.g. +1 555 0100 200.",
        ),
    ]

    @field_validator("customer")
    @classmethod
    def _digits(cls, value: str) -> str:
        digits = wa_id_of(value)
        if not 7 <= len(digits) <= 15:
            raise ValueError("a phone number has 7 to 15 digits with its country code")
        return value

    @property
    def wa_id(self) -> str:
        return wa_id_of(self.customer)


class ExportLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str = Field(description="A presigned link to the zip (data.json and media/).")
    expires_at: datetime


class Progress(BaseModel):
    model_config = ConfigDict(frozen=True)

    done: int = Field(description="Steps finished.")
    of: int = Field(description="Steps in all.")


class PrivacyRequestView(BaseModel):
    """A privacy request as the merchant sees it: its progress, and the export's link while it lives."""

    model_config = ConfigDict(frozen=True)

    id: str
    shop_id: str
    type: RequestType
    status: RequestStatus
    source: RequestSource
    customer: str = Field(description="The customer's number, masked.")
    progress: Progress
    counts: dict[str, int] = Field(description="What each step found and handled.")
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None = None
    swept_at: datetime | None = Field(default=None, description="When an erasure was run again.")
    export: ExportLink | None = Field(default=None, description="An export's link, for 24 hours.")
    error: str | None = None


class PrivacyRequest(BaseModel):
    """The stored record; ``subject`` (the pseudonym) finds the customer's other requests."""

    model_config = ConfigDict(frozen=True)

    id: str
    shop_id: str
    type: RequestType
    status: RequestStatus
    source: RequestSource
    customer: str
    subject: str
    steps_done: list[str] = []
    counts: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None = None
    swept_at: datetime | None = None
    export_key: str | None = None
    error: str | None = None
    # The conversation's language, for the chat's word that an export is ready.
    language: str | None = None

    @property
    def steps(self) -> tuple[str, ...]:
        return EXPORT_STEPS if self.type == "export" else ERASURE_STEPS

    def view(self, export: ExportLink | None) -> PrivacyRequestView:
        return PrivacyRequestView(
            **self.model_dump(exclude={"subject", "steps_done", "export_key", "language"}),
            progress=Progress(done=len(self.steps_done), of=len(self.steps)),
            export=export,
        )


class PrivacyJob(BaseModel):
    """The privacy queue's message: which request to run for which customer. It, not the record,
    carries the number; ``sweep`` runs an erasure again after it is done."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str
    shop_id: str
    wa_id: Annotated[str, Field(pattern=r"^[0-9]{7,15}$")]
    sweep: bool = False
