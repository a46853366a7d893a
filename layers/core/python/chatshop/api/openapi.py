"""The OpenAPI 3.1 document of the public API, built from the same pydantic models the routes use.

OPERATIONS is the one list of documented routes, of every function behind API Gateway (shops,
search, webhook); a test keeps it equal to each function's Chalice routes and to the template's
Api events, and the contract fuzzer holds every route to what is written here.

Imported only by the ``/openapi.json`` route and by tests: a light function must not pay for it
at cold start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chatshop.ads.decision_models import (
    DecisionRequest,
    DecisionResponse,
    SponsoredProductPage,
    SponsoredSearchResponse,
)
from chatshop.ads.domain import Campaign, CampaignCreate, CampaignPatch, CampaignReport
from chatshop.assistant.inbox import AgentAct, AgentReply, ConversationDetail, ConversationSummary
from chatshop.messaging.channel_models import WhatsAppChannel, WhatsAppChannelConnect
from chatshop.orders.domain import ORDER_STATUSES, Order, OrderTransition
from chatshop.orders.payments import StripeConnect, StripeConnection, StripeReceipt
from chatshop.orders.templates import ShopTemplates
from chatshop.platform.iso import ISO_3166_ALPHA2
from chatshop.privacy.consent import ConsentChange, Consents
from chatshop.privacy.requests import PrivacyRequestCreate, PrivacyRequestView
from chatshop.recruiting.domain import Acquisition, Broadcast, BroadcastCreate, LinkCreate, LinkWithQr
from chatshop.search.api_models import (
    ImageSearchResponse,
    UploadReference,
)
from chatshop.shops.domain import (
    CatalogImport,
    ImportFromUpload,
    Merchant,
    MerchantCreate,
    Page,
    Product,
    ProductCreate,
    ProductPatch,
    Shop,
    ShopCreate,
    ShopPatch,
)
from chatshop.shops.faq import Faq, FaqReplace
from chatshop.shops.feed import KNOWN_COLUMNS, REQUIRED_COLUMNS
from chatshop.shops.imports import FEED_CONTENT_TYPES
from chatshop.shops.media import IMAGE_CONTENT_TYPES

from .schemas import (
    ApiKey,
    Error,
    FeedUpload,
    Health,
    ImageUpload,
    QueryUpload,
    SearchHealth,
    WebhookReceipt,
)

_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_PRODUCT_ID = {"type": "string", "pattern": "^p[0-9a-f]{31}$"}
_CONVERSATION_ID = {"type": "string", "pattern": "^cv_[0-9a-f]{24}$"}
_ORDER_ID = {"type": "string", "pattern": "^o[0-9a-f]{31}$"}
_PRIVACY_REQUEST_ID = {"type": "string", "pattern": "^pr_[0-9a-f]{24}$"}
# An ad event token is opaque: any value is answered alike (a forged one as a genuine one), so the
# document does not say what a genuine one looks like. A user key is a client's pseudonym.
_TOKEN = {"type": "string", "minLength": 1}
_USER_KEY = {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"}
_PATH_IDS = {
    "product_id": _PRODUCT_ID,
    "conversation_id": _CONVERSATION_ID,
    "order_id": _ORDER_ID,
    "request_id": _PRIVACY_REQUEST_ID,
    "token": _TOKEN,
    "user_key": _USER_KEY,
}


@dataclass(frozen=True)
class Param:
    name: str
    location: str = "query"
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    status: int = 200
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    auth: str | None = "bearer"
    errors: tuple[int, ...] = ()
    parameters: tuple[Param, ...] = ()
    # A body other than one JSON model (feeds, photos, webhooks): media type -> schema.
    body: dict[str, dict[str, Any]] | None = None
    also: dict[int, type[BaseModel]] = field(default_factory=dict)  # other success statuses
    success_type: str = "application/json"
    headers: tuple[str, ...] = ()  # success headers besides X-Correlation-Id
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    operation_id: str = ""
    # Also answers 302 with a Location (an ad click's redirect).
    redirect: bool = False


def _limit(maximum: int) -> Param:
    return Param("limit", schema={"type": "integer", "minimum": 1, "maximum": maximum})


_PAGE = (_limit(100), Param("cursor"))
_AVAILABILITY = Param(
    "availability",
    schema={
        "type": "string",
        "enum": ["in stock", "out of stock", "preorder", "available for order", "discontinued"],
    },
)
_PRODUCT_FILTERS = (_AVAILABILITY, Param("category"))
# An empty If-Match names no version: it is refused as a missing one is (428), so the document
# does not offer it.
_IF_MATCH = Param("If-Match", "header", {"type": "string", "minLength": 1}, required=True)
_OPTIONAL_IF_MATCH = Param("If-Match", "header")
# Inline rather than a $ref: query parameters are checked one by one, and clients (the fuzzer
# among them) resolve references in them less reliably than in bodies.
_COUNTRY = {"type": "string", "enum": sorted(ISO_3166_ALPHA2)}
_SCOPE = (
    Param("shop_id", schema=_ID),
    Param("country", schema=_COUNTRY),
    _limit(50),
    Param("in_stock", schema={"type": "string", "enum": ["true", "false"]}),
)


def _upload_request(content_types: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The body of a presigned-upload request: the routes check content_type against their own list
    (UploadRequest itself takes any string)."""
    schema = {
        "type": "object",
        "properties": {"content_type": {"type": "string", "enum": list(content_types)}},
        "required": ["content_type"],
        "additionalProperties": False,
    }
    return {"application/json": {"schema": schema}}


_SHOP_LINKS = {
    "GetShop": {"operationId": "getShop", "parameters": {"shop_id": "$response.body#/id"}},
    "ListProducts": {"operationId": "listProducts", "parameters": {"shop_id": "$response.body#/id"}},
    "CreateProduct": {"operationId": "createProduct", "parameters": {"shop_id": "$response.body#/id"}},
    "RequestFeedUpload": {
        "operationId": "requestFeedUpload",
        "parameters": {"shop_id": "$response.body#/id"},
    },
    "ImportCatalog": {"operationId": "importCatalog", "parameters": {"shop_id": "$response.body#/id"}},
    "ConnectWhatsApp": {"operationId": "connectWhatsApp", "parameters": {"shop_id": "$response.body#/id"}},
    "PatchShop": {"operationId": "patchShop", "parameters": {"shop_id": "$response.body#/id"}},
    "GetFaq": {"operationId": "getFaq", "parameters": {"shop_id": "$response.body#/id"}},
    "ReplaceFaq": {"operationId": "replaceFaq", "parameters": {"shop_id": "$response.body#/id"}},
    "DeleteShop": {"operationId": "deleteShop", "parameters": {"shop_id": "$response.body#/id"}},
}
_PRODUCT = {"shop_id": "$response.body#/shop_id", "product_id": "$response.body#/id"}
_FAQ_LINKS = {
    "GetFaq": {"operationId": "getFaq", "parameters": {"shop_id": "$response.body#/shop_id"}},
    "ReplaceFaq": {
        "operationId": "replaceFaq",
        "parameters": {"shop_id": "$response.body#/shop_id", "header.If-Match": "$response.header.ETag"},
    },
}
_PRODUCT_LINKS = {
    "GetProduct": {"operationId": "getProduct", "parameters": _PRODUCT},
    "PatchProduct": {
        "operationId": "patchProduct",
        "parameters": {**_PRODUCT, "header.If-Match": "$response.header.ETag"},
    },
    "RequestImageUpload": {"operationId": "requestImageUpload", "parameters": _PRODUCT},
    "DeleteProduct": {"operationId": "deleteProduct", "parameters": _PRODUCT},
}

_CAMPAIGN = {"shop_id": "$response.body#/shop_id", "campaign_id": "$response.body#/id"}
_CAMPAIGN_LINKS = {
    "GetCampaign": {"operationId": "getCampaign", "parameters": _CAMPAIGN},
    "PatchCampaign": {
        "operationId": "patchCampaign",
        "parameters": {**_CAMPAIGN, "header.If-Match": "$response.header.ETag"},
    },
    "CampaignReport": {"operationId": "campaignReport", "parameters": _CAMPAIGN},
}

OPERATIONS: dict[tuple[str, str], Operation] = {
    # --- ShopsFunction ------------------------------------------------------------------------
    ("/health", "GET"): Operation("Service health", "service", response=Health, auth=None),
    ("/openapi.json", "GET"): Operation("This document", "service", auth=None),
    ("/merchants", "POST"): Operation(
        "Sign up; the API key is shown this once",
        "merchants",
        201,
        ApiKey,
        MerchantCreate,
        None,
        (400, 422),
        operation_id="signUp",
    ),
    ("/merchants/me", "GET"): Operation("The calling merchant", "merchants", response=Merchant),
    ("/merchants/me/api-key", "POST"): Operation(
        "Rotate the API key; the old one stops working", "merchants", 201, ApiKey, errors=(409,)
    ),
    ("/shops", "POST"): Operation(
        "Open a shop; only in its country's home region (403 wrong_home_region elsewhere)",
        "shops",
        201,
        Shop,
        ShopCreate,
        errors=(400, 403, 422),
        links=_SHOP_LINKS,
        operation_id="createShop",
    ),
    ("/shops", "GET"): Operation("My shops", "shops", response=Page[Shop], parameters=_PAGE, errors=(422,)),
    ("/shops/{shop_id}", "GET"): Operation(
        "A shop of mine", "shops", response=Shop, errors=(403, 404), operation_id="getShop"
    ),
    ("/shops/{shop_id}", "PATCH"): Operation(
        "Change a shop (409: payment stripe_link before the shop has a Stripe Payment Link)",
        "shops",
        response=Shop,
        request=ShopPatch,
        errors=(400, 403, 404, 409, 422),
        operation_id="patchShop",
    ),
    ("/shops/{shop_id}", "DELETE"): Operation(
        "Close a shop; its catalog and images are purged",
        "shops",
        204,
        errors=(403, 404),
        operation_id="deleteShop",
    ),
    ("/shops/{shop_id}/products", "POST"): Operation(
        "Add a product",
        "products",
        201,
        Product,
        ProductCreate,
        errors=(400, 403, 404, 409, 422),
        headers=("ETag",),
        links=_PRODUCT_LINKS,
        operation_id="createProduct",
    ),
    ("/shops/{shop_id}/products", "GET"): Operation(
        "Products of a shop, a page at a time",
        "products",
        response=Page[Product],
        parameters=_PAGE + _PRODUCT_FILTERS,
        errors=(403, 404, 422),
        operation_id="listProducts",
    ),
    ("/shops/{shop_id}/products/{product_id}", "GET"): Operation(
        "A product, with its ETag",
        "products",
        response=Product,
        errors=(403, 404),
        headers=("ETag",),
        operation_id="getProduct",
    ),
    ("/shops/{shop_id}/products/{product_id}", "PATCH"): Operation(
        "Change a product; needs If-Match with its ETag",
        "products",
        response=Product,
        request=ProductPatch,
        errors=(400, 403, 404, 412, 422, 428),
        parameters=(_IF_MATCH,),
        headers=("ETag",),
        operation_id="patchProduct",
    ),
    ("/shops/{shop_id}/products/{product_id}", "DELETE"): Operation(
        "Remove a product", "products", 204, errors=(403, 404), operation_id="deleteProduct"
    ),
    ("/shops/{shop_id}/products/{product_id}/images", "POST"): Operation(
        "A presigned upload for a product image (JPEG, PNG or WebP, up to 10 MB)",
        "products",
        201,
        ImageUpload,
        body=_upload_request(IMAGE_CONTENT_TYPES),
        errors=(400, 403, 404, 422),
        operation_id="requestImageUpload",
    ),
    ("/shops/{shop_id}/catalog/uploads", "POST"): Operation(
        "A presigned upload for a large feed (CSV or JSON)",
        "catalog",
        201,
        FeedUpload,
        body=_upload_request(FEED_CONTENT_TYPES),
        errors=(400, 403, 404, 422),
        operation_id="requestFeedUpload",
        links={
            "ImportUpload": {
                "operationId": "importCatalog",
                "parameters": {"shop_id": "$request.path.shop_id"},
                "requestBody": {"upload_key": "$response.body#/upload_key"},
            }
        },
    ),
    ("/shops/{shop_id}/catalog/imports", "POST"): Operation(
        "Import a feed in Meta's catalog format (CSV or JSON), or an uploaded one by upload_key; "
        "201 when applied in the request, 202 when queued",
        "catalog",
        201,
        CatalogImport,
        errors=(400, 403, 404, 413, 415, 422),
        body={},  # filled in by _feed_body: it needs the schema references
        also={202: CatalogImport},
        operation_id="importCatalog",
        links={
            "GetImport": {
                "operationId": "getImport",
                "parameters": {"shop_id": "$request.path.shop_id", "import_id": "$response.body#/id"},
            }
        },
    ),
    ("/shops/{shop_id}/catalog/imports/{import_id}", "GET"): Operation(
        "An import's status and result",
        "catalog",
        response=CatalogImport,
        errors=(403, 404),
        operation_id="getImport",
    ),
    ("/shops/{shop_id}/faq", "GET"): Operation(
        "The shop's FAQ, with its ETag; no entries (version 0) until one is stored",
        "faq",
        response=Faq,
        errors=(403, 404),
        headers=("ETag",),
        links=_FAQ_LINKS,
        operation_id="getFaq",
    ),
    ("/shops/{shop_id}/faq", "PUT"): Operation(
        "Replace the shop's whole FAQ; with If-Match, only if it is still the version of that ETag",
        "faq",
        response=Faq,
        request=FaqReplace,
        errors=(400, 403, 404, 412, 422),
        parameters=(_OPTIONAL_IF_MATCH,),
        headers=("ETag",),
        links=_FAQ_LINKS,
        operation_id="replaceFaq",
    ),
    ("/shops/{shop_id}/conversations", "GET"): Operation(
        "The shop's conversations held by the assistant, waiting for a person, or held by an agent "
        "(status, default waiting), the latest message first",
        "inbox",
        response=Page[ConversationSummary],
        parameters=(
            Param("status", schema={"type": "string", "enum": ["waiting", "agent", "assistant"]}),
            *_PAGE,
        ),
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/conversations/{conversation_id}", "GET"): Operation(
        "A conversation with its messages both ways, oldest first (cursor paged)",
        "inbox",
        response=ConversationDetail,
        parameters=_PAGE,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/conversations/{conversation_id}/messages", "POST"): Operation(
        "An agent's reply, queued to be sent; the conversation is the agent's until released. "
        "409 outside WhatsApp's 24-hour window, where only a template may be sent",
        "inbox",
        202,
        AgentAct,
        request=AgentReply,
        errors=(400, 403, 404, 409, 422),
    ),
    ("/shops/{shop_id}/conversations/{conversation_id}/release", "POST"): Operation(
        "Hand the conversation back to the assistant",
        "inbox",
        202,
        AgentAct,
        errors=(403, 404),
    ),
    # --- orders -------------------------------------------------------------------------------
    ("/shops/{shop_id}/orders", "GET"): Operation(
        "The shop's orders, newest first, optionally in one status (cursor paged)",
        "orders",
        response=Page[Order],
        parameters=(Param("status", schema={"type": "string", "enum": list(ORDER_STATUSES)}), *_PAGE),
        errors=(403, 404, 422),
        operation_id="listOrders",
    ),
    ("/shops/{shop_id}/orders/{order_id}", "GET"): Operation(
        "An order: its lines priced from the catalog, total, payment, attribution and history",
        "orders",
        response=Order,
        errors=(403, 404),
        operation_id="getOrder",
    ),
    ("/shops/{shop_id}/orders/{order_id}/transitions", "POST"): Operation(
        "Move an order: pending_payment -> paid -> shipped -> delivered, cancelled before shipping, "
        "refunded after payment (stock back where not delivered); 409 names the current status; "
        "the customer is told once",
        "orders",
        response=Order,
        request=OrderTransition,
        errors=(400, 403, 404, 409, 422),
        operation_id="transitionOrder",
    ),
    ("/shops/{shop_id}/templates", "PUT"): Operation(
        "Replace the shop's approved WhatsApp template names by purpose and language "
        "(order_update: sent outside the customer's 24-hour window)",
        "orders",
        response=ShopTemplates,
        request=ShopTemplates,
        errors=(400, 403, 404, 422),
        operation_id="putTemplates",
    ),
    ("/shops/{shop_id}/payments/stripe", "PUT"): Operation(
        "Take payment through a Stripe Payment Link: the link, and the webhook's signing secret "
        "(stored encrypted, never shown)",
        "orders",
        response=StripeConnection,
        request=StripeConnect,
        errors=(400, 403, 404, 422),
        operation_id="connectStripe",
    ),
    ("/shops/{shop_id}/channels/whatsapp", "PUT"): Operation(
        "Connect the shop's WhatsApp number; the access token is stored encrypted and never shown. "
        "Meta is first told to post the number's business account's webhooks to this region (the WABA's "
        "webhook override): a token or account Meta refuses is a 422 naming the field, Meta unreachable "
        "or unable to verify this region's webhook (or limiting requests) a 503, and either way "
        "nothing is connected",
        "channels",
        response=WhatsAppChannel,
        request=WhatsAppChannelConnect,
        errors=(400, 403, 404, 409, 422, 503),
        operation_id="connectWhatsApp",
    ),
    ("/shops/{shop_id}/channels/whatsapp", "GET"): Operation(
        "The shop's WhatsApp channel, without its token",
        "channels",
        response=WhatsAppChannel,
        errors=(403, 404),
    ),
    ("/shops/{shop_id}/links", "POST"): Operation(
        "A wa.me link to the shop's number whose prefilled first message carries a short code, and "
        "its QR code (PNG, base64): a conversation it starts is credited to it (409 without a number, "
        "404 for an unknown retailer_id)",
        "recruiting",
        201,
        LinkWithQr,
        LinkCreate,
        errors=(400, 403, 404, 409, 422),
        operation_id="createLink",
    ),
    ("/shops/{shop_id}/links", "GET"): Operation(
        "The shop's links with their QR codes, a page at a time",
        "recruiting",
        response=Page[LinkWithQr],
        parameters=_PAGE,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/acquisition", "GET"): Operation(
        "Per source (ad, post, link, organic): conversations started, orders credited and their revenue, "
        "from one day to another (the shop's days, both included; the last 30 days by default)",
        "recruiting",
        response=Acquisition,
        parameters=(
            Param("from", schema={"type": "string", "format": "date"}),
            Param("to", schema={"type": "string", "format": "date"}),
        ),
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/broadcasts", "POST"): Operation(
        "Send an approved marketing template to the customers who opted in to offers, at most one per "
        "customer per marketing_interval_hours; 202 at once, the sending goes on in the background "
        "(409 when the template is not one of the shop's approved marketing templates)",
        "recruiting",
        202,
        Broadcast,
        BroadcastCreate,
        errors=(400, 403, 404, 409, 422),
        operation_id="createBroadcast",
        links={
            "GetBroadcast": {
                "operationId": "getBroadcast",
                "parameters": {"shop_id": "$response.body#/shop_id", "broadcast_id": "$response.body#/id"},
            }
        },
    ),
    ("/shops/{shop_id}/broadcasts/{broadcast_id}", "GET"): Operation(
        "A broadcast's counts: sent, failed, skipped (with their reasons) and pending add up to total",
        "recruiting",
        response=Broadcast,
        errors=(403, 404),
        operation_id="getBroadcast",
    ),
    # --- privacy ------------------------------------------------------------------------------
    ("/shops/{shop_id}/privacy/requests", "POST"): Operation(
        "File a customer's export or erasure request (the shop is the controller): 202 queued, or 200 "
        "with the customer's open request of that kind; an export is a zip behind a 24-hour link, an "
        "erasure deletes everything about the customer and keeps orders under a pseudonym",
        "privacy",
        202,
        PrivacyRequestView,
        PrivacyRequestCreate,
        errors=(400, 403, 404, 422),
        also={200: PrivacyRequestView},
        operation_id="filePrivacyRequest",
        links={
            "GetPrivacyRequest": {
                "operationId": "getPrivacyRequest",
                "parameters": {"shop_id": "$response.body#/shop_id", "request_id": "$response.body#/id"},
            }
        },
    ),
    ("/shops/{shop_id}/privacy/requests/{request_id}", "GET"): Operation(
        "A privacy request's progress, what each step handled, and an export's link while it lives",
        "privacy",
        response=PrivacyRequestView,
        errors=(403, 404),
        operation_id="getPrivacyRequest",
    ),
    ("/marketplace/shops", "GET"): Operation(
        "Active shops of a country where the marketplace is live (403 feature_not_available_in_region)",
        "marketplace",
        response=Page[Shop],
        auth=None,
        parameters=(Param("country", schema=_COUNTRY, required=True), *_PAGE),
        errors=(403, 422),
    ),
    ("/marketplace/shops/{shop_id}/products", "GET"): Operation(
        "Products of a marketplace shop, with up to two of its own sponsored products where Shop Ads is live",
        "marketplace",
        response=SponsoredProductPage,
        auth=None,
        parameters=_PAGE + _PRODUCT_FILTERS,
        errors=(403, 404, 422),
    ),
    # --- AdsFunction --------------------------------------------------------------------------
    ("/shops/{shop_id}/campaigns", "POST"): Operation(
        "Start an ad campaign (draft or active); only in countries where Shop Ads is live (403)",
        "campaigns",
        201,
        Campaign,
        CampaignCreate,
        errors=(400, 403, 404, 422),
        headers=("ETag",),
        links=_CAMPAIGN_LINKS,
        operation_id="createCampaign",
    ),
    ("/shops/{shop_id}/campaigns", "GET"): Operation(
        "Campaigns of a shop, a page at a time",
        "campaigns",
        response=Page[Campaign],
        parameters=_PAGE,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/campaigns/{campaign_id}", "GET"): Operation(
        "A campaign, with its ETag and whether its budget is spent",
        "campaigns",
        response=Campaign,
        errors=(403, 404),
        headers=("ETag",),
        operation_id="getCampaign",
    ),
    ("/shops/{shop_id}/campaigns/{campaign_id}", "PATCH"): Operation(
        "Change a campaign (status: draft -> active <-> paused -> ended); needs If-Match with its ETag",
        "campaigns",
        response=Campaign,
        request=CampaignPatch,
        errors=(400, 403, 404, 409, 412, 422, 428),
        parameters=(_IF_MATCH,),
        headers=("ETag",),
        operation_id="patchCampaign",
    ),
    ("/shops/{shop_id}/campaigns/{campaign_id}/report", "GET"): Operation(
        "Impressions, clicks, CTR, spend, conversions, revenue and ROAS by hour or day (UTC)",
        "campaigns",
        response=CampaignReport,
        parameters=(
            Param("from", schema={"type": "string", "format": "date-time"}),
            Param("to", schema={"type": "string", "format": "date-time"}),
            Param("granularity", schema={"type": "string", "enum": ["hour", "day"]}),
        ),
        errors=(403, 404, 422),
        operation_id="campaignReport",
    ),
    ("/ads/decisions", "POST"): Operation(
        "The ads each placement shows: labelled Sponsored, with advertiser and payer, signed impression "
        "and click URLs, and why (DSA Art. 26); only where Shop Ads is live (403 elsewhere)",
        "ads",
        response=DecisionResponse,
        request=DecisionRequest,
        auth=None,
        errors=(400, 403, 422),
    ),
    ("/ads/events/{token}", "GET"): Operation(
        "Count an ad's impression (204) or click (302 to the ad's own destination) from its signed "
        "token; a forged, expired or replayed token gets the same answer and counts nothing",
        "ads",
        204,
        auth=None,
        redirect=True,
        headers=("Cache-Control",),
        operation_id="adEvent",
    ),
    ("/privacy/consents/{user_key}", "PUT"): Operation(
        "Give, withdraw or object: a user's choice on personalised ads, recorded with its time, "
        "wording, source and country; a withdrawal or objection deletes the ad profile and holds from "
        "the next ad; kept only in the country's home region (403 elsewhere)",
        "privacy",
        response=Consents,
        request=ConsentChange,
        auth=None,
        errors=(400, 403, 422),
        operation_id="putConsent",
    ),
    ("/privacy/consents/{user_key}", "GET"): Operation(
        "A user's consents (not_given where never asked) and the log of their changes",
        "privacy",
        response=Consents,
        auth=None,
        errors=(422,),
        operation_id="getConsent",
    ),
    # --- SearchFunction -----------------------------------------------------------------------
    ("/search", "GET"): Operation(
        "Products by words, in one shop (shop_id) or a country's marketplace (country): exactly one; "
        "with up to two labelled sponsored results where Shop Ads is live",
        "search",
        response=SponsoredSearchResponse,
        auth=None,
        parameters=(Param("q", schema={"type": "string", "minLength": 1}, required=True), *_SCOPE),
        errors=(403, 404, 422),
    ),
    ("/search/image", "POST"): Operation(
        "Products by photo: raw JPEG, PNG or WebP bytes, a multipart form (part file), or an uploaded "
        "photo by upload_key; exactly one of shop_id and country. Ranked by verified local-feature "
        "inliers; no items and a reason when nothing matched",
        "search",
        response=ImageSearchResponse,
        auth=None,
        parameters=_SCOPE,
        body={
            **{media: {"schema": {"type": "string", "format": "binary"}} for media in IMAGE_CONTENT_TYPES},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/UploadReference"}},
        },
        errors=(400, 403, 404, 413, 415, 422),
        operation_id="searchByImage",
    ),
    ("/search/uploads", "POST"): Operation(
        "A presigned upload for a query photo too large to send in the request",
        "search",
        201,
        QueryUpload,
        body=_upload_request(IMAGE_CONTENT_TYPES),
        auth=None,
        errors=(400, 422),
        links={
            "SearchUploadedPhoto": {
                "operationId": "searchByImage",
                "requestBody": {"upload_key": "$response.body#/upload_key"},
            }
        },
    ),
    ("/search/health", "GET"): Operation(
        "Whether the image model is a trained one, which ranker photo search uses, and the models' status",
        "search",
        response=SearchHealth,
        auth=None,
    ),
    # --- WebhookFunction ----------------------------------------------------------------------
    ("/webhooks/whatsapp", "GET"): Operation(
        "Meta's verification handshake: hub.challenge back as text when the verify token matches",
        "webhooks",
        auth=None,
        success_type="text/plain",
        errors=(403,),
        parameters=(Param("hub.mode"), Param("hub.verify_token"), Param("hub.challenge")),
    ),
    ("/webhooks/stripe/{shop_id}", "POST"): Operation(
        "Stripe's signed events for a shop (Stripe-Signature over the raw body with the shop's "
        "signing secret); checkout.session.completed with client_reference_id marks that order paid, "
        "charge.refunded in full refunds the order its payment intent paid, once per event id; 400 "
        "for a signature that does not verify, and nothing changes; 404 for a "
        "shop without a Stripe signing secret",
        "webhooks",
        response=StripeReceipt,
        auth="stripeSignature",
        body={
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "type"],
                    "properties": {"id": {"type": "string", "minLength": 1}, "type": {"type": "string"}},
                }
            }
        },
        errors=(400, 404),
    ),
    ("/webhooks/whatsapp", "POST"): Operation(
        "Meta's signed deliveries (X-Hub-Signature-256: sha256= and the HMAC-SHA256 of the raw body "
        "with the app secret); kept and queued, answered at once. A body about another region's "
        "numbers is relayed there unchanged and not kept (503 when that region cannot be reached, so "
        "Meta retries; 421 for a relayed body this region does not serve either)",
        "webhooks",
        response=WebhookReceipt,
        auth="whatsappSignature",
        # Any bytes are archived; what is not a webhook document is counted as unreadable.
        body={"application/json": {"schema": {}}},
        errors=(400, 413, 421, 503),
    ),
}

_ERROR_TEXT = {
    400: "Malformed JSON, or a body that cannot be read",
    401: "Missing or wrong credentials",
    403: "Not yours, or not available in this region (wrong_home_region, feature_not_available_in_region)",
    404: "Not found",
    409: "Conflict",
    412: "Stale If-Match",
    413: "Body too large",
    415: "Unsupported Content-Type",
    422: "Invalid input (the fields are named)",
    421: "Misdirected: a relayed request this region does not serve",
    428: "If-Match required",
    503: "Temporarily unavailable; retry later",
}

_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "whatsappSignature": {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"},
    "stripeSignature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
}


@lru_cache(maxsize=2)
def openapi_document(version: str) -> dict[str, Any]:
    references, schemas = models_json_schema(
        [(model, "validation") for model in _models()], ref_template="#/components/schemas/{model}"
    )
    refs = {model: reference for (model, _), reference in references.items()}
    components = schemas.get("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {"title": "chatshop", "version": version},
        "paths": _paths(refs),
        "components": {
            "schemas": components,
            "securitySchemes": _SECURITY_SCHEMES,
            "headers": {
                "X-Correlation-Id": {
                    "description": "The request's id, in the logs too",
                    "schema": {"type": "string"},
                },
                "ETag": {
                    "description": "The version of the product or FAQ, for If-Match",
                    "schema": {"type": "string"},
                },
                "Location": {"description": "Where the redirect goes", "schema": {"type": "string"}},
                "Cache-Control": {"description": "Never cached", "schema": {"type": "string"}},
            },
        },
    }


def _models() -> list[type[BaseModel]]:
    found: dict[type[BaseModel], None] = {Error: None, CatalogImport: None, UploadReference: None}
    found[ImportFromUpload] = None
    for operation in OPERATIONS.values():
        for model in (operation.request, operation.response, *operation.also.values()):
            if model is not None:
                found[model] = None
    return list(found)


Refs = dict[type[BaseModel], dict[str, Any]]


def _paths(refs: Refs) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for (path, method), operation in OPERATIONS.items():
        paths.setdefault(path, {})[method.lower()] = _operation(path, operation, refs)
    return paths


def _operation(path: str, operation: Operation, refs: Refs) -> dict[str, Any]:
    document: dict[str, Any] = {
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(path, operation),
        "responses": _responses(operation, refs),
    }
    if operation.operation_id:
        document["operationId"] = operation.operation_id
    if operation.auth is not None:
        document["security"] = [{operation.auth: []}]
    content = _request_content(operation, refs)
    if content is not None:
        document["requestBody"] = {"required": True, "content": content}
    return document


def _request_content(operation: Operation, refs: Refs) -> dict[str, Any] | None:
    if operation.request is not None:
        return {"application/json": {"schema": refs[operation.request]}}
    if operation.body == {}:
        return _feed_body(refs)
    return operation.body


def _feed_body(refs: Refs) -> dict[str, Any]:
    # A feed the parser can read: the header names the required columns, and no row has a quote or
    # a line break inside it (a bad row is rejected in the result, not the whole feed).
    csv = {
        "schema": {
            "type": "string",
            "pattern": r'^id,title,price(\n[^"\r\n]*)*\n?$',
            "description": "A feed in Meta's CSV format (UTF-8, header row first)",
        }
    }
    # Objects with Meta's column names (a bad value rejects its row, not the feed); the columns the
    # objects have between them must include the required ones, unless none of them has a column.
    row = {
        "anyOf": [
            {"not": {"type": "object"}},
            {"type": "object", "propertyNames": {"enum": list(KNOWN_COLUMNS)}},
        ]
    }
    has_required = {
        "allOf": [{"contains": {"type": "object", "required": [name]}} for name in REQUIRED_COLUMNS]
    }
    rows = {
        "type": "array",
        "items": row,
        "anyOf": [{"items": {"not": {"type": "object", "minProperties": 1}}}, has_required],
    }
    json_feed = {
        "oneOf": [
            refs[ImportFromUpload],
            rows,
            {
                "type": "object",
                "properties": {"data": rows},
                "required": ["data"],
                "not": {"required": ["upload_key"]},
            },
        ]
    }
    return {"text/csv": csv, "application/json": {"schema": json_feed}}


def _parameters(path: str, operation: Operation) -> list[dict[str, Any]]:
    in_path = [segment.strip("{}") for segment in path.split("/") if segment.startswith("{")]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_IDS.get(name, _ID)} for name in in_path
    ]
    for param in operation.parameters:
        parameters.append(
            {"name": param.name, "in": param.location, "required": param.required, "schema": param.schema}
        )
    return parameters


def _headers(names: tuple[str, ...]) -> dict[str, Any]:
    headers = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    return {**headers, "X-Correlation-Id": {"$ref": "#/components/headers/X-Correlation-Id"}}


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "OK", "headers": _headers(operation.headers)}
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": refs[operation.response]}}
    elif operation.success_type != "application/json":
        success["content"] = {operation.success_type: {"schema": {"type": "string"}}}
    elif operation.status != 204:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    if operation.links:
        success["links"] = operation.links
    responses = {str(operation.status): success}
    if operation.redirect:
        responses["302"] = {"description": "Found", "headers": _headers(("Location", *operation.headers))}
    for status, model in operation.also.items():
        responses[str(status)] = {
            "description": "Accepted",
            "headers": _headers(()),
            "content": {"application/json": {"schema": refs[model]}},
        }
        if operation.links:
            responses[str(status)]["links"] = operation.links
    statuses = set(operation.errors) | ({401} if operation.auth else set())
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _ERROR_TEXT[status],
            "headers": _headers(()),
            "content": {"application/json": {"schema": refs[Error]}},
        }
    return responses
