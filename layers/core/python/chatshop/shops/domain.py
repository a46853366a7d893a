"""Plain domain models of the shops context; no storage concerns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Merchant(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    email: str
    created_at: datetime


class MerchantSignup(BaseModel):
    """A newly registered merchant and its API key, which is shown this once and never stored."""

    model_config = ConfigDict(frozen=True)

    merchant: Merchant
    api_key: str
