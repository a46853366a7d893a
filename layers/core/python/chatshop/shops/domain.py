"""Plain domain models of the shops context: what the API takes and gives; no storage concerns."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from chatshop.platform.iso import ISO_3166_ALPHA2

from .money import CurrencyCode, Money, whole_number

Availability = Literal["in stock", "out of stock", "preorder", "available for order", "discontinued"]
Condition = Literal["new", "refurbished", "used"]
ShopStatus = Literal["active", "paused"]
# The languages the assistant speaks; a shop without one is spoken to in its country's language.
Language = Literal["en", "es", "pt-BR", "hi"]
_LANGUAGE_DOC = "The language the shop's assistant speaks; when absent, that of the shop's country."
# Recruiting: how long after a customer's first contact an order is credited to where they came
# from, and how often one customer may get an offer from the shop.
DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7
DEFAULT_MARKETING_INTERVAL_HOURS = 24
_ATTRIBUTION_DOC = (
    "Days after a customer's first contact within which an order is credited to the ad, link or "
    "post the conversation came from."
)
_MARKETING_INTERVAL_DOC = "Hours that must pass between two offers (marketing templates) to one customer."
# Orders: how the shop is paid, and how long an unpaid order (paid online) holds its stock.
DEFAULT_RESERVATION_MINUTES = 30
ShopPayment = Literal["on_delivery", "at_pickup", "stripe_link"]
_PAYMENT_DOC = (
    "How customers pay: on delivery, at pickup, or through the shop's Stripe Payment Link (set with "
    "PUT /shops/{shop_id}/payments/stripe first)."
)
_RESERVATION_DOC = "Minutes an order waiting for its online payment holds its stock before it is cancelled."
ReservationMinutes = Annotated[whole_number(5, 10080), Field(description=_RESERVATION_DOC)]  # type: ignore[valid-type]
# The chat's cart: hours after the customer's last message before a cart left unordered gets its
# one reminder (only while WhatsApp's 24-hour window is open, so at most 23).
DEFAULT_CART_REMINDER_HOURS = 4
_CART_REMINDER_DOC = (
    "Hours after the customer last wrote before a cart left unordered in the chat gets its one reminder."
)
CartReminderHours = Annotated[whole_number(1, 23), Field(description=_CART_REMINDER_DOC)]  # type: ignore[valid-type]
# Whole numbers as JSON has them (24 and 24.0 alike, as the document's "integer" says).
AttributionWindowDays = Annotated[whole_number(1, 90), Field(description=_ATTRIBUTION_DOC)]  # type: ignore[valid-type]
MarketingIntervalHours = Annotated[whole_number(1, 720), Field(description=_MARKETING_INTERVAL_DOC)]  # type: ignore[valid-type]

Text = Annotated[str, StringConstraints(strip_whitespace=True)]
# Stripped before they are checked: the patterns say that some character must be left.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"\S")]
Identifier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$",
    ),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S")]
T = TypeVar("T")


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


@functools.cache
def iana_timezones() -> frozenset[str]:
    """The zones the tz database names, not whatever ZoneInfo can open (it also opens files such as
    "posixrules", which no client means and the document cannot list). Read on first use: scanning
    the database costs a cold start some 30 ms."""
    return frozenset(available_timezones())


class _EnumSchema:
    """A string enum in the JSON schema, its values computed only when a schema is asked for."""

    def __init__(self, values: Callable[[], Iterable[str]]) -> None:
        self.values = values

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "enum": sorted(self.values())}


def _timezone(value: str) -> str:
    if value not in iana_timezones():
        raise ValueError(f"{value!r} is not an IANA time zone")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http or https URL")
    return value


# The codes themselves, exactly: the document lists them as enums, so " US" is as wrong as "UK".
CountryCode = Annotated[
    str, AfterValidator(_country), WithJsonSchema({"type": "string", "enum": sorted(ISO_3166_ALPHA2)})
]
TimeZone = Annotated[str, AfterValidator(_timezone), _EnumSchema(iana_timezones)]
class _SchemaPattern:
    """A pattern for the JSON schema only, saying what a validator with a better message checks."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {**handler(core_schema), "pattern": self.pattern}


# The pattern says in the document what _http_url checks: an http(s) scheme and a host.
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_http_url),
    # The host part ends at the first / ? or #; a bracket in it is an IPv6 literal urlsplit refuses.
    _SchemaPattern(r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\[\]]+([/?#]|$)"),
]


# defer_build: each model's validator and serializer are built on its first use, not at import: a
# request uses one or two of these models, and building them all was a tenth of the shops API's cold
# start.
class _Input(BaseModel):
    """Client input: unknown fields are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Merchant(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    name: str
    email: str
    created_at: datetime


class MerchantSignup(BaseModel):
    """A newly registered merchant and its API key, which is shown this once and never stored."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    merchant: Merchant
    api_key: str


class MerchantCreate(_Input):
    name: Name
    email: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]


class ShopCreate(_Input):
    name: Name
    country: CountryCode
    currency: CurrencyCode
    description: Annotated[Text, StringConstraints(max_length=1000)] = ""
    timezone: TimeZone = "UTC"
    status: ShopStatus = "active"
    language: Language | None = Field(default=None, description=_LANGUAGE_DOC)
    attribution_window_days: AttributionWindowDays = DEFAULT_ATTRIBUTION_WINDOW_DAYS
    marketing_interval_hours: MarketingIntervalHours = DEFAULT_MARKETING_INTERVAL_HOURS
    payment: Literal["on_delivery", "at_pickup"] = Field(default="on_delivery", description=_PAYMENT_DOC)
    reservation_minutes: ReservationMinutes = DEFAULT_RESERVATION_MINUTES
    cart_reminder_hours: CartReminderHours = DEFAULT_CART_REMINDER_HOURS


class ShopPatch(_Input):
    """Country and currency are fixed at creation: the first decides where the data lives, the
    second what every price of the catalog means."""

    name: Name | None = None
    description: Annotated[Text, StringConstraints(max_length=1000)] | None = None
    timezone: TimeZone | None = None
    status: ShopStatus | None = None
    # As for the other fields of a shop's patch, null leaves the language as it is.
    language: Language | None = Field(default=None, description=f"{_LANGUAGE_DOC} null keeps it.")
    attribution_window_days: AttributionWindowDays | None = None
    marketing_interval_hours: MarketingIntervalHours | None = None
    payment: ShopPayment | None = Field(default=None, description=_PAYMENT_DOC)
    reservation_minutes: ReservationMinutes | None = None
    cart_reminder_hours: CartReminderHours | None = None


class Shop(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    merchant_id: str
    name: str
    description: str
    country: str
    currency: str
    status: ShopStatus
    timezone: str
    # None: the shop never chose one (shops opened before languages existed, among them).
    language: Language | None = Field(default=None, description=_LANGUAGE_DOC)
    attribution_window_days: int = DEFAULT_ATTRIBUTION_WINDOW_DAYS
    marketing_interval_hours: int = DEFAULT_MARKETING_INTERVAL_HOURS
    payment: ShopPayment = Field(default="on_delivery", description=_PAYMENT_DOC)
    # The shop's Stripe Payment Link (its signing secret is kept apart, never shown).
    payment_link: str | None = None
    reservation_minutes: int = DEFAULT_RESERVATION_MINUTES
    cart_reminder_hours: int = DEFAULT_CART_REMINDER_HOURS
    # Approved WhatsApp template names by purpose ("order_update") and language ("en", "pt_BR").
    templates: dict[str, dict[str, str]] = {}
    created_at: datetime
    updated_at: datetime


class _ProductFields(_Input):
    description: Annotated[Text, StringConstraints(max_length=9999)] = ""
    availability: Availability = "in stock"
    condition: Condition = "new"
    brand: Annotated[Text, StringConstraints(max_length=100)] | None = None
    link: Url | None = None
    image_link: Url | None = None
    additional_image_links: Annotated[list[Url], Field(max_length=20)] = []
    category: Annotated[Text, StringConstraints(max_length=250)] | None = None
    item_group_id: Identifier | None = None
    inventory: whole_number(0) | None = None  # type: ignore[valid-type]


class ProductCreate(_ProductFields):
    retailer_id: Identifier
    title: Title
    price: Money
    # After price, so that its check can see the price it is compared with.
    sale_price: Money | None = None

    @field_validator("sale_price")
    @classmethod
    def _sale_price_fits(cls, sale_price: Money | None, info: ValidationInfo) -> Money | None:
        price = info.data.get("price")
        if price is not None:
            check_sale_price(price, sale_price)
        return sale_price


def _kept() -> Any:
    """A patch field that a product cannot be without: it may be changed, never cleared, so an
    explicit null is refused by validation and the schema offers no null (nor a default) for it."""
    return Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))


class ProductPatch(_Input):
    """Any field but ``retailer_id``, the product's identity in the catalog (Meta's feed id).
    ``null`` clears an optional field; the fields every product has can only be changed."""

    title: Title = _kept()
    description: Annotated[Text, StringConstraints(max_length=9999)] = _kept()
    availability: Availability = _kept()
    condition: Condition = _kept()
    price: Money = _kept()
    sale_price: Money | None = None
    brand: Annotated[Text, StringConstraints(max_length=100)] | None = None
    link: Url | None = None
    image_link: Url | None = None
    additional_image_links: Annotated[list[Url], Field(max_length=20)] = _kept()
    category: Annotated[Text, StringConstraints(max_length=250)] | None = None
    item_group_id: Identifier | None = None
    inventory: whole_number(0) | None = None  # type: ignore[valid-type]


def check_sale_price(price: Money, sale_price: Money | None) -> None:
    if sale_price is None:
        return
    if sale_price.currency != price.currency:
        raise ValueError("sale_price must be in the currency of price")
    if sale_price.amount > price.amount:
        raise ValueError("sale_price must not be more than price")


ImageIndexStatus = Literal["pending", "indexed", "rejected"]


class ProductImage(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    content_type: str
    url: str | None = None
    # Visual search: "rejected" images (index_error says why, e.g. image_truncated) are never retried.
    index_status: ImageIndexStatus = "pending"
    index_error: str | None = None


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    shop_id: str
    retailer_id: str
    title: str
    description: str = ""
    availability: Availability = "in stock"
    condition: Condition = "new"
    price: Money
    sale_price: Money | None = None
    brand: str | None = None
    link: str | None = None
    image_link: str | None = None
    additional_image_links: list[str] = []
    category: str | None = None
    item_group_id: str | None = None
    inventory: int | None = None
    images: list[ProductImage] = []
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        return f'"{self.id}-v{self.version}"'


class Page(BaseModel, Generic[T]):
    model_config = ConfigDict(defer_build=True)

    items: list[T]
    next_cursor: str | None = None


ImportStatus = Literal["queued", "completed", "failed"]


class ImportRejection(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    row: int
    column: str | None
    reason: str


class CatalogImport(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    status: ImportStatus
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[ImportRejection] = []
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


class ImportFromUpload(_Input):
    # What request_feed_upload hands out: uploads/<shop id>/<random hex>.
    upload_key: Annotated[str, StringConstraints(pattern=r"^uploads/[0-9a-f]{32}/[0-9a-f]{32}$")]


class UploadRequest(_Input):
    content_type: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100)]
