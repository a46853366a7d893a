"""Ads function: merchants' ad campaigns, and the ad decisions the marketplace and search ask for.

Each route parses its input, calls one logic function of ``chatshop.ads`` and shapes the answer;
errors become the project's error model in ``chatshop.platform.http``. Merchants authenticate
with the API key of the shops API, checked by ``chatshop.shops.merchants``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache, cached_property

from chalice import Response

from chatshop.ads import campaigns
from chatshop.ads.campaign_store import CampaignStore
from chatshop.ads.decision_models import DecisionRequest
from chatshop.ads.domain import Campaign, CampaignCreate, CampaignPatch
from chatshop.ads.events import (
    RECENTLY_QUEUED_MAX,
    RECENTLY_QUEUED_S,
    AdEventQueue,
    answer_event,
    peer_event_urls,
)
from chatshop.ads.secrets import AdsSecrets
from chatshop.ads.serving import FEATURE, AdServer, base_url_of
from chatshop.ads.spend import SpendStore
from chatshop.platform.config import Settings, load_settings
from chatshop.platform.errors import ValidationFailed
from chatshop.platform.http import (
    create_app,
    current_request,
    json_response,
    page_size,
    parse_body,
    query_param,
)
from chatshop.platform.rollout import Rollout, load_rollout
from chatshop.platform.ttl_cache import TTLCache
from chatshop.privacy.consent import ConsentChange, check_user_key, require_home_region
from chatshop.privacy.consent_store import ConsentStore
from chatshop.shops import merchants, shops
from chatshop.shops.domain import Merchant, Shop
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore

# Read once per function sandbox, under this function's own environment.
settings = load_settings()
app = create_app("ads")


class Dependencies:
    """Stores and clients, made on first use so a cold start pays only for what a route needs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def merchants(self) -> MerchantStore:
        return MerchantStore(self.settings)

    @cached_property
    def shops(self) -> ShopStore:
        return ShopStore(self.settings)

    @cached_property
    def products(self) -> ProductStore:
        return ProductStore(self.settings)

    @cached_property
    def campaigns(self) -> CampaignStore:
        return CampaignStore(self.settings)

    @cached_property
    def spend(self) -> SpendStore:
        return SpendStore(self.settings)

    @property
    def rollout(self) -> Rollout:
        return load_rollout(settings=self.settings)


deps = Dependencies(settings)


# --- helpers ------------------------------------------------------------------------------------


def authenticated() -> Merchant:
    header = current_request().headers.get("authorization")
    return merchants.authenticate(deps.merchants, merchants.bearer_token(header))


def my_shop(shop_id: str) -> Shop:
    return shops.owned_shop(deps.shops, authenticated(), shop_id)


def moment(name: str) -> datetime | None:
    raw = query_param(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.upper())  # RFC 3339 allows a lower-case t and z
    except ValueError:
        raise ValidationFailed([name], f"{name} must be an ISO 8601 date or time.") from None


def campaign_body(campaign: Campaign, status: int = 200) -> Response:
    return json_response(campaign.model_dump(mode="json"), status=status, headers={"ETag": campaign.etag})


# --- campaigns ----------------------------------------------------------------------------------


@app.route("/shops/{shop_id}/campaigns", methods=["POST"])
def create_campaign(shop_id: str) -> Response:
    shop = my_shop(shop_id)
    campaign = campaigns.create_campaign(
        deps.campaigns,
        deps.spend,
        deps.products,
        deps.rollout,
        settings.region,
        shop,
        parse_body(CampaignCreate),
    )
    return campaign_body(campaign, status=201)


@app.route("/shops/{shop_id}/campaigns", methods=["GET"])
def list_campaigns(shop_id: str) -> Response:
    shop = my_shop(shop_id)
    page = campaigns.list_campaigns(deps.campaigns, deps.spend, shop, page_size(), query_param("cursor"))
    return json_response(page.model_dump(mode="json"))


@app.route("/shops/{shop_id}/campaigns/{campaign_id}", methods=["GET"])
def get_campaign(shop_id: str, campaign_id: str) -> Response:
    return campaign_body(campaigns.get_campaign(deps.campaigns, deps.spend, my_shop(shop_id), campaign_id))


@app.route("/shops/{shop_id}/campaigns/{campaign_id}", methods=["PATCH"])
def patch_campaign(shop_id: str, campaign_id: str) -> Response:
    shop = my_shop(shop_id)
    patch = parse_body(CampaignPatch)
    campaign = campaigns.update_campaign(
        deps.campaigns,
        deps.spend,
        deps.products,
        deps.rollout,
        settings.region,
        shop,
        campaign_id,
        patch,
        current_request().headers.get("if-match"),
    )
    return campaign_body(campaign)


@app.route("/shops/{shop_id}/campaigns/{campaign_id}/report", methods=["GET"])
def campaign_report(shop_id: str, campaign_id: str) -> Response:
    shop = my_shop(shop_id)
    granularity = query_param("granularity") or "day"
    if granularity not in ("hour", "day"):
        raise ValidationFailed(["granularity"], "granularity must be hour or day.")
    report = campaigns.campaign_report(
        deps.campaigns,
        shop,
        campaign_id,
        moment("from"),
        moment("to"),
        granularity,  # type: ignore[arg-type]
    )
    return json_response(report.model_dump(mode="json", by_alias=True))


# --- ad events and consent ----------------------------------------------------------------------
# Public, like the marketplace: a user key is a pseudonym the client chose, unguessable by rule.

# Event answers must reach the server every time: a cached 204 is an impression never counted.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
# The events this sandbox queued lately: a URL fetched again is answered without queueing it again.
recently_queued: TTLCache[bool] = TTLCache(RECENTLY_QUEUED_MAX, RECENTLY_QUEUED_S)


@cache
def ads_secrets() -> AdsSecrets:
    return AdsSecrets(settings)


@cache
def ad_event_queue() -> AdEventQueue:
    return AdEventQueue(settings)


@cache
def consent_store() -> ConsentStore:
    return ConsentStore(settings)


@cache
def peer_events() -> dict[str, str]:
    return peer_event_urls(settings.webhook_peers, settings.region)


@app.route("/ads/events/{token}", methods=["GET"])
def ad_event(token: str) -> Response:
    landing = settings.require("ads_landing_url")
    keys, queue = ads_secrets().event_keys(), ad_event_queue()
    answer = answer_event(
        token,
        keys,
        queue,
        landing,
        datetime.now(UTC),
        recently_queued,
        region=settings.region,
        peers=peer_events(),
    )
    headers = dict(NO_STORE)
    if answer.location is not None:
        headers["Location"] = answer.location
    return Response(body="", status_code=answer.status, headers=headers)


@app.route("/privacy/consents/{user_key}", methods=["PUT"])
def put_consent(user_key: str) -> Response:
    check_user_key(user_key)
    change = parse_body(ConsentChange)
    require_home_region(deps.rollout, change.country, settings.region)
    consent_store().record(user_key, change, datetime.now(UTC))
    return json_response(consent_store().read(user_key).model_dump(mode="json"), headers=NO_STORE)


@app.route("/privacy/consents/{user_key}", methods=["GET"])
def get_consent(user_key: str) -> Response:
    consents = consent_store().read(check_user_key(user_key))
    return json_response(consents.model_dump(mode="json"), headers=NO_STORE)


# --- decisions ----------------------------------------------------------------------------------


@cache
def ad_server() -> AdServer:
    return AdServer(settings)


@app.route("/ads/decisions", methods=["POST"])
def ad_decisions() -> Response:
    request = parse_body(DecisionRequest)
    deps.rollout.require_live(FEATURE, request.user.country, settings.region)
    http = current_request()
    base_url = base_url_of(http.headers, http.context)
    response = ad_server().decide(request, base_url, with_collection=True)
    return json_response(response.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
