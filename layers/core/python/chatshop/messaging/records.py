"""What the messaging context keeps about messages sent to customers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

OutboundStatus = Literal["queued", "retrying", "sending", "accepted", "sent", "delivered", "read", "failed"]


class OutboundRecord(BaseModel):
    """One message to a customer, from the moment it is queued; its id is ours, wamid is Meta's."""

    model_config = ConfigDict(frozen=True)

    id: str
    shop_id: str
    phone_number_id: str
    to: str
    message: dict[str, Any]
    reply_to: str | None = None
    status: OutboundStatus = "queued"
    attempts: int = 0
    wamid: str | None = None
    error_code: int | None = None
    error: str | None = None
    created_at: datetime


class SendJob(BaseModel):
    """The outbound queue's message: which record to send, and which attempt this is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outbound_id: str
    attempt: int = 1
