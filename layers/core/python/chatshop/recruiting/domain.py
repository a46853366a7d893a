"""Plain domain models of recruiting: what its API takes and gives; no storage concerns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.shops.domain import Identifier

from .sources import SourceKind


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- Links and QR codes -------------------------------------------------------------------------


class LinkCreate(_Input):
    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"\S"),
        Field(description="What the link is for (a poster, a flyer, a shelf): the merchant's own name."),
    ]
    retailer_id: Identifier | None = Field(
        default=None,
        description="A product of the shop's catalog the link shows: the greeting of a customer who "
        "comes through it names the product.",
    )


class Link(_Model):
    """A wa.me link to the shop's WhatsApp number; its prefilled first message carries ``code``."""

    id: str = Field(description="The link's short code, as the prefilled message carries it.")
    shop_id: str
    label: str
    retailer_id: str | None = None
    url: str = Field(description="https://wa.me/<number>?text=<the prefilled first message>")
    prefilled_text: str
    created_at: datetime


class LinkWithQr(Link):
    qr_png_base64: str = Field(description="The link's QR code, a PNG image, base64-encoded.")


# --- Offers: consent ----------------------------------------------------------------------------

ConsentStatus = Literal["opted_in", "opted_out"]
# How the customer said it: the opt-in button, a word such as STOP, the menu's button, or Meta's
# "Stop promotions" (the user_preferences webhook).
ConsentVia = Literal["button", "keyword", "menu", "meta"]


class Consent(_Model):
    shop_id: str
    phone_number_id: str
    customer: str
    status: ConsentStatus
    changed_at: datetime
    via: ConsentVia
    # The opt-in's evidence: when, and the words the customer was shown when they tapped.
    opted_in_at: datetime | None = None
    opted_in_words: str | None = None
    last_marketing_at: datetime | None = None
    last_outbound_id: str | None = None
    # Meta's per-user marketing limits (131049) met in a row: each doubles the wait before the next offer.
    limit_strikes: int = 0


# --- Offers: broadcasts -------------------------------------------------------------------------

TemplateName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9_]{1,512}$"),
    Field(description="An approved marketing template of the shop, as WhatsApp Manager names it."),
]
LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$"),
    Field(description='The template\'s language as Meta writes it, such as "en" or "pt_BR".'),
]
TemplateParameter = Annotated[str, StringConstraints(min_length=1, max_length=1024, pattern=r"\S")]


class BroadcastCreate(_Input):
    template: TemplateName
    language: LanguageCode
    parameters: Annotated[
        list[TemplateParameter],
        Field(max_length=20, description="The template body's parameters, {{1}}, {{2}} ..., in order."),
    ] = []


BroadcastStatus = Literal["queued", "sending", "done"]

# Why a customer was not sent the offer.
SKIP_US_NUMBER = "us_number_marketing_paused"
SKIP_INTERVAL = "marketing_interval"
SKIP_META_LIMIT = "meta_marketing_limit_backoff"
SKIP_OPTED_OUT = "opted_out"
SKIP_REASONS = (SKIP_US_NUMBER, SKIP_INTERVAL, SKIP_META_LIMIT, SKIP_OPTED_OUT)


class BroadcastCounts(_Model):
    """Every customer the broadcast considered is counted once: ``total`` is the sum of the others."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    pending: int = 0
    failed_reasons: dict[str, int] = Field(default_factory=dict)
    skipped_reasons: dict[str, int] = Field(default_factory=dict)


class Broadcast(_Model):
    id: str
    shop_id: str
    template: str
    language: str
    parameters: list[str] = []
    status: BroadcastStatus
    created_at: datetime
    finished_at: datetime | None = None
    counts: BroadcastCounts = Field(default_factory=BroadcastCounts)


class BroadcastJob(BaseModel):
    """The broadcast queue's message: one page of a shop's opted-in customers to consider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_id: str
    broadcast_id: str
    cursor: str | None = None
    page: int = 0


# --- Acquisition --------------------------------------------------------------------------------


class SourceFigures(_Model):
    source: str = Field(description='The source: "ad:<ad id>", "post:<post id>", "link:<code>" or "organic".')
    kind: SourceKind
    conversations: int = 0
    orders: int = 0
    revenue: dict[str, int] = Field(
        default_factory=dict, description="Revenue of the credited orders in minor units, per currency."
    )


class Acquisition(_Model):
    # "from" in JSON, both ways (the document is written from the model's aliases).
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    shop_id: str
    from_: date = Field(alias="from")
    to: date
    sources: list[SourceFigures]

    def as_body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
