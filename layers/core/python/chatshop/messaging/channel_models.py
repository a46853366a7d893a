"""The WhatsApp channel of a shop, as clients send and see it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

Digits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{5,32}$")]


class WhatsAppChannelConnect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phone_number_id: Digits
    waba_id: Digits
    display_phone_number: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-]{4,30}$")
    ]
    catalog_id: Digits | None = None
    dataset_id: Digits | None = Field(
        default=None,
        description="The business account's dataset for Meta's Conversions API (Meta's Dataset API, "
        "POST /{waba_id}/dataset): paid orders that a click-to-WhatsApp ad brought are reported to it "
        "as Purchase events, for customers who consented to personalised ads.",
    )
    access_token: Annotated[SecretStr, StringConstraints(min_length=20, max_length=2048)]


class WhatsAppChannel(BaseModel):
    """A shop's connected number, as the API shows it: never with its token."""

    model_config = ConfigDict(frozen=True)

    shop_id: str
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    catalog_id: str | None = None
    dataset_id: str | None = None
    connected_at: datetime
    updated_at: datetime
