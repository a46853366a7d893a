"""What ``POST /ads/decisions`` takes and gives, and the sponsored results other lists carry."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chatshop.search.api_models import SearchResponse
from chatshop.shops.domain import CountryCode, Page, Product
from chatshop.shops.money import Money, whole_number

# Kept in step with chatshop.privacy.consent.USER_KEY_PATTERN: a pseudonymous key, never a name.
USER_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
MAX_PLACEMENTS = 5

PlacementType = Literal["marketplace_feed", "search"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlacementContext(_Input):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = (
        None
    )
    category: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)] | None
    ) = None
    product_id: Annotated[str, StringConstraints(pattern=r"^p[0-9a-f]{31}$")] | None = None


class PlacementIn(_Input):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
    type: PlacementType
    count: whole_number(1, 5) = 1  # type: ignore[valid-type]
    context: PlacementContext = PlacementContext()


class DecisionUser(_Input):
    key: Annotated[str, StringConstraints(pattern=USER_KEY_PATTERN)] | None = None
    country: CountryCode


class DecisionRequest(_Input):
    placements: Annotated[list[PlacementIn], Field(min_length=1, max_length=MAX_PLACEMENTS)]
    user: DecisionUser


class AdProductOut(BaseModel):
    id: str
    title: str
    price: Money
    sale_price: Money | None = None
    image_url: str | None = None
    link: str | None = None


class Advertiser(BaseModel):
    shop_id: str
    name: str


class WhyParameter(BaseModel):
    type: Literal["context", "keyword", "category", "location", "interest", "shop"]
    value: str
    source: str


class Why(BaseModel):
    """DSA Art. 26(1): that this is an ad, for whom, who paid, the main parameters, how to change them."""

    personalised: bool
    parameters: list[WhyParameter]
    how_to_change: str
    controls: dict[str, str] = {}


class ChosenAd(BaseModel):
    ad_id: str
    campaign_id: str
    label: Literal["Sponsored"] = "Sponsored"
    format: Literal["product", "collection"]
    headline: str
    advertiser: Advertiser
    paid_by: Advertiser
    objective: Literal["traffic", "messages"]
    products: list[AdProductOut]
    destination: str | None = None
    impression_url: str
    click_url: str
    why: Why


class CollectionAd(BaseModel):
    """A curated collection: a hero product and three more, each from its own shop's campaign."""

    collection_id: str
    label: Literal["Sponsored"] = "Sponsored"
    format: Literal["curated_collection"] = "curated_collection"
    title: str
    ads: list[ChosenAd]


class PlacementDecision(BaseModel):
    id: str
    type: PlacementType
    ads: list[ChosenAd]
    collection: CollectionAd | None = None


class DecisionResponse(BaseModel):
    decision_id: str
    placements: list[PlacementDecision]


class SponsoredProductPage(Page[Product]):
    """A page of a shop's products, with up to two of that shop's own sponsored products."""

    sponsored: list[ChosenAd] = []


class SponsoredSearchResponse(SearchResponse):
    """Search results, with up to two sponsored results where Shop Ads is live."""

    sponsored: list[ChosenAd] = []
