"""Shops function: the merchant REST API for shops and catalogs, and the public marketplace.

Each route parses its input, calls one logic function of ``chatshop.shops`` and shapes the answer;
errors become the project's error model in ``chatshop.platform.http``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, get_args

from chalice import Response
from pydantic import ValidationError

import chatshop
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
from chatshop.shops import catalog, media, merchants, shops
from chatshop.shops.domain import (
    Availability,
    ImportFromUpload,
    Merchant,
    MerchantCreate,
    Product,
    ProductCreate,
    ProductPatch,
    Shop,
    ShopCreate,
    ShopPatch,
    UploadRequest,
)
from chatshop.shops.lookup import CatalogLookup
from chatshop.shops.merchant_store import MerchantStore
from chatshop.shops.product_store import ProductStore
from chatshop.shops.shop_store import ShopStore

# The shops' and the catalog's routes are most of this function's requests: the other contexts (the
# FAQ, catalog imports, the WhatsApp connection, the inbox, orders...) load with their first route.
if TYPE_CHECKING:
    from chatshop.ads.serving import AdServer
    from chatshop.assistant.queues import InboundReturn
    from chatshop.assistant.state_store import StateStore
    from chatshop.messaging.channel_store import ChannelStore
    from chatshop.messaging.channel_webhooks import WebhookOverride
    from chatshop.messaging.conversation_store import ConversationStore
    from chatshop.messaging.token_vault import TokenVault
    from chatshop.orders.payments import StripeSecrets
    from chatshop.orders.service import Orders
    from chatshop.privacy.bucket_holdings import BucketHoldings
    from chatshop.privacy.service import PrivacyDesk
    from chatshop.shops.faq_store import FaqStore
    from chatshop.shops.import_store import ImportStore
    from chatshop.shops.jobs import JobQueue

# Read once per function sandbox, under this function's own environment.
settings = load_settings()
app = create_app("shops")


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
    def faqs(self) -> FaqStore:
        from chatshop.shops.faq_store import FaqStore

        return FaqStore(self.settings)

    @cached_property
    def lookup(self) -> CatalogLookup:
        return CatalogLookup(self.settings)

    @cached_property
    def imports(self) -> ImportStore:
        from chatshop.shops.import_store import ImportStore

        return ImportStore(self.settings)

    @cached_property
    def bucket(self) -> media.MediaBucket:
        return media.MediaBucket(self.settings)

    @cached_property
    def channels(self) -> ChannelStore:
        from chatshop.messaging.channel_store import ChannelStore

        return ChannelStore(self.settings)

    # The inbox's stores load with its first route: most of this function's requests are the catalog's.
    @cached_property
    def conversations(self) -> StateStore:
        from chatshop.assistant.state_store import StateStore

        return StateStore(self.settings)

    @cached_property
    def messages(self) -> ConversationStore:
        from chatshop.messaging.conversation_store import ConversationStore

        return ConversationStore(self.settings)

    @cached_property
    def agent_acts(self) -> InboundReturn:
        from chatshop.assistant.queues import InboundReturn

        return InboundReturn(self.settings)

    @cached_property
    def tokens(self) -> TokenVault:
        from chatshop.messaging.token_vault import TokenVault

        return TokenVault(self.settings)

    @cached_property
    def import_jobs(self) -> JobQueue:
        from chatshop.shops.jobs import JobQueue

        return JobQueue(self.settings, "catalog_import_queue")

    @cached_property
    def cleanup_jobs(self) -> JobQueue:
        from chatshop.shops.jobs import JobQueue

        return JobQueue(self.settings, "shop_cleanup_queue")

    # Sponsored products of a marketplace list: the ad decision's caches load with its first list.
    @cached_property
    def ads(self) -> AdServer:
        from chatshop.ads.serving import AdServer

        return AdServer(self.settings)

    # Orders load with their first route, as the inbox does.
    @cached_property
    def orders(self) -> Orders:
        from chatshop.ads.order_paid import OrderPaidQueue
        from chatshop.messaging.conversation_store import ConversationStore
        from chatshop.messaging.outbound_queue import OutboundQueue
        from chatshop.orders.notify import Notifier
        from chatshop.orders.order_store import OrderStore
        from chatshop.orders.service import Orders

        notifier = Notifier(ConversationStore(self.settings), OutboundQueue(self.settings))
        # An order the merchant marks paid is credited to the ad that brought it, where Shop Ads runs.
        paid = OrderPaidQueue.where_deployed(self.settings)
        return Orders(OrderStore(self.settings, self.products), notifier, paid)

    @cached_property
    def stripe_secrets(self) -> StripeSecrets:
        from chatshop.orders.payments import StripeSecrets

        return StripeSecrets(self.settings)

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


def my_messenger_shop(shop_id: str) -> Shop:
    """The caller's shop, where shopping in the chat is live for it (403 elsewhere: its region
    deploys no messaging)."""
    shop = my_shop(shop_id)
    shops.require_feature(deps.rollout, settings.region, shop, shops.MESSENGER_FEATURE)
    return shop


def availability_filter() -> str | None:
    """``?availability=``, one of the product availabilities (anything else would match nothing
    silently, hiding a typo)."""
    raw = query_param("availability")
    if raw is not None and raw not in get_args(Availability):
        raise ValidationFailed(
            ["availability"], f"availability must be one of {', '.join(get_args(Availability))}."
        )
    return raw


def page_body(page: Any) -> dict[str, Any]:
    return page.model_dump(mode="json")


def product_body(product: Any) -> Response:
    shown = media.with_image_urls(deps.bucket, product)
    return json_response(shown.model_dump(mode="json"), headers={"ETag": product.etag})


# --- service ------------------------------------------------------------------------------------


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok", "region": settings.region, "version": chatshop.__version__}


@app.route("/openapi.json", methods=["GET"])
def openapi() -> dict[str, Any]:
    # Imported here: building the document needs every context's models, which no other route does.
    from chatshop.api.openapi import openapi_document

    return openapi_document(chatshop.__version__)


# --- merchants ----------------------------------------------------------------------------------


@app.route("/merchants", methods=["POST"])
def sign_up() -> Response:
    signup = merchants.register_merchant(deps.merchants, parse_body(MerchantCreate))
    return json_response({"id": signup.merchant.id, "api_key": signup.api_key}, status=201)


@app.route("/merchants/me", methods=["GET"])
def me() -> Response:
    return json_response(authenticated().model_dump(mode="json"))


@app.route("/merchants/me/api-key", methods=["POST"])
def rotate_key() -> Response:
    header = current_request().headers.get("authorization")
    signup = merchants.rotate_api_key(deps.merchants, merchants.bearer_token(header) or "")
    return json_response({"id": signup.merchant.id, "api_key": signup.api_key}, status=201)


# --- shops --------------------------------------------------------------------------------------


@app.route("/shops", methods=["POST"])
def create_shop() -> Response:
    merchant = authenticated()
    shop = shops.create_shop(deps.shops, deps.rollout, settings.region, merchant, parse_body(ShopCreate))
    return json_response(shop.model_dump(mode="json"), status=201)


@app.route("/shops", methods=["GET"])
def list_shops() -> Response:
    page = shops.list_my_shops(deps.shops, authenticated(), page_size(), query_param("cursor"))
    return json_response(page_body(page))


@app.route("/shops/{shop_id}", methods=["GET"])
def get_shop(shop_id: str) -> Response:
    return json_response(my_shop(shop_id).model_dump(mode="json"))


@app.route("/shops/{shop_id}", methods=["PATCH"])
def patch_shop(shop_id: str) -> Response:
    shop = shops.update_shop(deps.shops, authenticated(), shop_id, parse_body(ShopPatch))
    return json_response(shop.model_dump(mode="json"))


@app.route("/shops/{shop_id}", methods=["DELETE"])
def delete_shop(shop_id: str) -> Response:
    shop = shops.close_shop(deps.shops, authenticated(), shop_id)
    deps.cleanup_jobs.send({"type": "ShopDeleted", "shop_id": shop.id})
    return Response(body="", status_code=204)


# --- products -----------------------------------------------------------------------------------


@app.route("/shops/{shop_id}/products", methods=["POST"])
def create_product(shop_id: str) -> Response:
    shop = my_shop(shop_id)
    product = catalog.create_product(deps.products, shop, parse_body(ProductCreate))
    return json_response(product.model_dump(mode="json"), status=201, headers={"ETag": product.etag})


@app.route("/shops/{shop_id}/products", methods=["GET"])
def list_products(shop_id: str) -> Response:
    shop = my_shop(shop_id)
    page = catalog.list_products(
        deps.products,
        shop,
        page_size(),
        query_param("cursor"),
        availability_filter(),
        query_param("category"),
    )
    return json_response(page_body(page))


def my_product(shop_id: str, product_id: str) -> tuple[Shop, Product]:
    return catalog.owned_product(deps.lookup, authenticated(), shop_id, product_id)


@app.route("/shops/{shop_id}/products/{product_id}", methods=["GET"])
def get_product(shop_id: str, product_id: str) -> Response:
    return product_body(my_product(shop_id, product_id)[1])


@app.route("/shops/{shop_id}/products/{product_id}", methods=["PATCH"])
def patch_product(shop_id: str, product_id: str) -> Response:
    shop, current = my_product(shop_id, product_id)
    if_match = current_request().headers.get("if-match")
    product = catalog.update_product(deps.products, shop, current, parse_body(ProductPatch), if_match)
    return product_body(product)


@app.route("/shops/{shop_id}/products/{product_id}", methods=["DELETE"])
def delete_product(shop_id: str, product_id: str) -> Response:
    shop, product = my_product(shop_id, product_id)
    catalog.delete_product(deps.products, shop, product.id)
    return Response(body="", status_code=204)


@app.route("/shops/{shop_id}/products/{product_id}/images", methods=["POST"])
def upload_image(shop_id: str, product_id: str) -> Response:
    shop, product = my_product(shop_id, product_id)
    request = parse_body(UploadRequest)
    return json_response(
        media.request_image_upload(deps.bucket, shop, product, request.content_type), status=201
    )


# --- catalog imports ----------------------------------------------------------------------------


@app.route("/shops/{shop_id}/catalog/uploads", methods=["POST"])
def upload_feed(shop_id: str) -> Response:
    from chatshop.shops import imports

    shop = my_shop(shop_id)
    request = parse_body(UploadRequest)
    return json_response(imports.request_feed_upload(deps.bucket, shop, request.content_type), status=201)


@app.route(
    "/shops/{shop_id}/catalog/imports",
    methods=["POST"],
    content_types=["application/json", "text/csv", "application/csv"],
)
def import_catalog(shop_id: str) -> Response:
    from chatshop.shops import imports

    shop = my_shop(shop_id)
    request = current_request()
    content_type = request.headers.get("content-type", "")
    upload = _upload_reference(request.raw_body, content_type)
    if upload is not None:
        record = imports.start_import_from_upload(deps.imports, deps.import_jobs, shop, upload.upload_key)
    else:
        record = imports.start_import(
            deps.products, deps.imports, deps.import_jobs, shop, request.raw_body, content_type
        )
    status = 201 if record.status == "completed" else 202
    return json_response(record.model_dump(mode="json"), status=status)


def _upload_reference(body: bytes, content_type: str) -> ImportFromUpload | None:
    """``{"upload_key": ...}`` names an uploaded feed; any other body is the feed itself (a JSON
    feed is an array, or an object with ``data``)."""
    if not content_type.startswith("application/json") or body.lstrip()[:1] != b"{":
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # the feed parser reports it, with where it broke
    if not isinstance(document, dict) or "upload_key" not in document:
        return None
    try:
        return ImportFromUpload.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None


@app.route("/shops/{shop_id}/catalog/imports/{import_id}", methods=["GET"])
def get_import(shop_id: str, import_id: str) -> Response:
    from chatshop.shops import imports

    record = imports.get_import(deps.imports, my_shop(shop_id), import_id)
    return json_response(record.model_dump(mode="json"))


# --- FAQ ----------------------------------------------------------------------------------------


@app.route("/shops/{shop_id}/faq", methods=["GET"])
def get_faq(shop_id: str) -> Response:
    from chatshop.shops import faq

    shop_faq = faq.shop_faq(deps.faqs, my_shop(shop_id).id)
    return json_response(shop_faq.model_dump(mode="json"), headers={"ETag": shop_faq.etag})


@app.route("/shops/{shop_id}/faq", methods=["PUT"])
def replace_faq(shop_id: str) -> Response:
    from chatshop.shops import faq
    from chatshop.shops.faq import FaqReplace

    shop = my_shop(shop_id)
    if_match = current_request().headers.get("if-match")
    shop_faq = faq.replace_faq(deps.faqs, shop, parse_body(FaqReplace), if_match)
    return json_response(shop_faq.model_dump(mode="json"), headers={"ETag": shop_faq.etag})


# --- inbox --------------------------------------------------------------------------------------


def holder_filter() -> str:
    raw = query_param("status") or "waiting"
    if raw not in ("waiting", "agent", "assistant"):
        raise ValidationFailed(["status"], "status must be one of waiting, agent, assistant.")
    return raw


@app.route("/shops/{shop_id}/conversations", methods=["GET"])
def list_conversations(shop_id: str) -> Response:
    from chatshop.assistant import inbox

    shop = my_messenger_shop(shop_id)
    page = inbox.list_conversations(
        deps.conversations, shop, holder_filter(), page_size(), query_param("cursor")
    )
    return json_response(page_body(page))


@app.route("/shops/{shop_id}/conversations/{conversation_id}", methods=["GET"])
def get_conversation(shop_id: str, conversation_id: str) -> Response:
    from chatshop.assistant import inbox

    shop = my_messenger_shop(shop_id)
    detail = inbox.conversation_detail(
        deps.conversations, deps.messages, shop, conversation_id, page_size(), query_param("cursor")
    )
    return json_response(detail.model_dump(mode="json"))


@app.route("/shops/{shop_id}/conversations/{conversation_id}/messages", methods=["POST"])
def send_agent_message(shop_id: str, conversation_id: str) -> Response:
    from chatshop.assistant import inbox
    from chatshop.assistant.inbox import AgentReply

    shop = my_messenger_shop(shop_id)
    reply = parse_body(AgentReply)
    act = inbox.send_agent_reply(
        deps.conversations, deps.messages, deps.agent_acts, shop, conversation_id, reply, datetime.now(UTC)
    )
    return json_response(act.model_dump(mode="json"), status=202)


@app.route("/shops/{shop_id}/conversations/{conversation_id}/release", methods=["POST"])
def release_conversation(shop_id: str, conversation_id: str) -> Response:
    from chatshop.assistant import inbox

    act = inbox.release(deps.conversations, deps.agent_acts, my_messenger_shop(shop_id), conversation_id)
    return json_response(act.model_dump(mode="json"), status=202)


# --- channels -----------------------------------------------------------------------------------


def webhook_override() -> WebhookOverride:
    """Meta told to post the number's webhooks to this region: its configured webhook URL, or this
    API's as the merchant called it."""
    from chatshop.messaging.channel_webhooks import WebhookOverride, home_webhook_url
    from chatshop.messaging.graph_client import GraphClient
    from chatshop.messaging.webhook_secrets import WebhookSecretsSource

    http = current_request()
    callback_url = home_webhook_url(settings.webhook_url, http.headers, http.context)
    verify_token = WebhookSecretsSource(settings).load().verify_token
    return WebhookOverride(GraphClient(settings), callback_url, verify_token)


@app.route("/shops/{shop_id}/channels/whatsapp", methods=["PUT"])
def connect_whatsapp(shop_id: str) -> Response:
    from chatshop.messaging import channels
    from chatshop.messaging.channel_models import WhatsAppChannelConnect

    shop = my_messenger_shop(shop_id)
    request = parse_body(WhatsAppChannelConnect)
    channel = channels.connect_whatsapp(
        deps.channels, deps.tokens, shop.id, request, webhooks=webhook_override()
    )
    return json_response(channel.model_dump(mode="json"))


@app.route("/shops/{shop_id}/channels/whatsapp", methods=["GET"])
def get_whatsapp(shop_id: str) -> Response:
    from chatshop.messaging import channels

    channel = channels.whatsapp_channel(deps.channels, my_messenger_shop(shop_id).id)
    return json_response(channel.model_dump(mode="json"))


# --- orders -------------------------------------------------------------------------------------


def order_status_filter() -> str | None:
    from chatshop.orders.domain import ORDER_STATUSES

    raw = query_param("status")
    if raw is not None and raw not in ORDER_STATUSES:
        raise ValidationFailed(["status"], f"status must be one of {', '.join(ORDER_STATUSES)}.")
    return raw


@app.route("/shops/{shop_id}/orders", methods=["GET"])
def list_orders(shop_id: str) -> Response:
    shop = my_messenger_shop(shop_id)
    page = deps.orders.list(shop, order_status_filter(), page_size(), query_param("cursor"))
    return json_response(page_body(page))


@app.route("/shops/{shop_id}/orders/{order_id}", methods=["GET"])
def get_order(shop_id: str, order_id: str) -> Response:
    return json_response(deps.orders.get(my_messenger_shop(shop_id), order_id).model_dump(mode="json"))


@app.route("/shops/{shop_id}/orders/{order_id}/transitions", methods=["POST"])
def transition_order(shop_id: str, order_id: str) -> Response:
    from chatshop.orders.domain import OrderTransition

    shop = my_messenger_shop(shop_id)
    move = parse_body(OrderTransition)
    order = deps.orders.move(
        shop, order_id, move.to, by="merchant", now=datetime.now(UTC), tracking_url=move.tracking_url
    )
    return json_response(order.model_dump(mode="json"))


@app.route("/shops/{shop_id}/templates", methods=["PUT"])
def replace_templates(shop_id: str) -> Response:
    from chatshop.orders.templates import ShopTemplates

    shop = my_messenger_shop(shop_id)
    templates = parse_body(ShopTemplates)
    updated = shops.update_settings(deps.shops, shop, {"templates": templates.by_purpose()})
    return json_response(ShopTemplates.of(updated.templates).model_dump(mode="json"))


@app.route("/shops/{shop_id}/payments/stripe", methods=["PUT"])
def connect_stripe(shop_id: str) -> Response:
    from chatshop.orders.payments import StripeConnect, StripeConnection, connect_stripe

    shop = my_messenger_shop(shop_id)
    request = parse_body(StripeConnect)
    updated = shops.update_settings(deps.shops, shop, connect_stripe(deps.stripe_secrets, shop, request))
    connection = StripeConnection(
        payment_link=updated.payment_link or "", webhook_path=f"/webhooks/stripe/{shop.id}"
    )
    return json_response(connection.model_dump(mode="json"))


# --- recruiting: links, acquisition, offers ------------------------------------------------------


if TYPE_CHECKING:
    from chatshop.recruiting.acquisition_store import AcquisitionStore
    from chatshop.recruiting.broadcast_queue import BroadcastQueue
    from chatshop.recruiting.broadcast_store import BroadcastStore
    from chatshop.recruiting.link_store import LinkStore
    from chatshop.recruiting.templates import MetaTemplates


class RecruitingDeps:
    """Recruiting's stores, made with its first route."""

    @cached_property
    def links(self) -> LinkStore:
        from chatshop.recruiting.link_store import LinkStore

        return LinkStore(settings)

    @cached_property
    def counters(self) -> AcquisitionStore:
        from chatshop.recruiting.acquisition_store import AcquisitionStore

        return AcquisitionStore(settings)

    @cached_property
    def broadcasts(self) -> BroadcastStore:
        from chatshop.recruiting.broadcast_store import BroadcastStore

        return BroadcastStore(settings)

    @cached_property
    def broadcast_jobs(self) -> BroadcastQueue:
        from chatshop.recruiting.broadcast_queue import BroadcastQueue

        return BroadcastQueue(settings)

    @cached_property
    def templates(self) -> MetaTemplates:
        from chatshop.messaging.graph_client import GraphClient
        from chatshop.recruiting.templates import MetaTemplates

        return MetaTemplates(deps.channels, deps.tokens, GraphClient(settings))


recruiting = RecruitingDeps()


class _ShopNumbers:
    def display_number(self, shop_id: str) -> str | None:
        channel = deps.channels.for_shop(shop_id)
        return channel.display_phone_number if channel is not None else None


class _Products:
    def by_retailer_id(self, shop: Shop, retailer_id: str) -> Product | None:
        from chatshop.shops.catalog import product_id_for

        stored = deps.products.get_many(shop.id, [product_id_for(shop.id, retailer_id)])
        return next((found.product for found in stored.values()), None)


@app.route("/shops/{shop_id}/links", methods=["POST"])
def create_link(shop_id: str) -> Response:
    from chatshop.assistant.i18n import default_language, supported, translator
    from chatshop.assistant.offers import link_greeting
    from chatshop.recruiting import links
    from chatshop.recruiting.domain import LinkCreate

    shop = my_shop(shop_id)

    def words(shop: Shop, product: Product | None) -> str:
        language = supported(shop.language) or default_language(shop.country)
        return link_greeting(translator(language, shop.country), product.title if product else None)

    link = links.create_link(
        recruiting.links, _ShopNumbers(), _Products(), shop, parse_body(LinkCreate), words, datetime.now(UTC)
    )
    return json_response(link.model_dump(mode="json"), status=201)


@app.route("/shops/{shop_id}/links", methods=["GET"])
def list_links(shop_id: str) -> Response:
    from chatshop.recruiting import links

    found, cursor = links.list_links(recruiting.links, my_shop(shop_id), page_size(), query_param("cursor"))
    return json_response({"items": [link.model_dump(mode="json") for link in found], "next_cursor": cursor})


@app.route("/shops/{shop_id}/acquisition", methods=["GET"])
def acquisition_report(shop_id: str) -> Response:
    from chatshop.recruiting import acquisition

    shop = my_shop(shop_id)
    first, last = acquisition.report_range(
        query_param("from"), query_param("to"), acquisition.shop_day(shop, datetime.now(UTC))
    )
    found = acquisition.report(recruiting.counters, deps.orders.store, shop, first, last)
    return json_response(found.as_body())


@app.route("/shops/{shop_id}/broadcasts", methods=["POST"])
def create_broadcast(shop_id: str) -> Response:
    from chatshop.recruiting import broadcasts
    from chatshop.recruiting.domain import BroadcastCreate

    shop = my_shop(shop_id)
    broadcast = broadcasts.start_broadcast(
        recruiting.broadcasts,
        recruiting.broadcast_jobs,
        recruiting.templates,
        shop,
        parse_body(BroadcastCreate),
        datetime.now(UTC),
    )
    return json_response(broadcast.model_dump(mode="json"), status=202)


@app.route("/shops/{shop_id}/broadcasts/{broadcast_id}", methods=["GET"])
def get_broadcast(shop_id: str, broadcast_id: str) -> Response:
    from chatshop.recruiting import broadcasts

    found = broadcasts.broadcast_view(recruiting.broadcasts, deps.messages, my_shop(shop_id), broadcast_id)
    return json_response(found.model_dump(mode="json"))


# --- privacy requests ----------------------------------------------------------------------------


class PrivacyDeps:
    """The privacy desk, made with the first privacy route."""

    @cached_property
    def desk(self) -> PrivacyDesk:
        from chatshop.ads.secrets import AdsSecrets
        from chatshop.privacy.jobs import PrivacyQueue
        from chatshop.privacy.request_store import PrivacyRequestStore
        from chatshop.privacy.service import PrivacyDesk

        secrets = AdsSecrets(settings)
        return PrivacyDesk(PrivacyRequestStore(settings), PrivacyQueue(settings), secrets.user_key_secret)

    @cached_property
    def bucket(self) -> BucketHoldings:
        from chatshop.privacy.bucket_holdings import BucketHoldings

        return BucketHoldings(settings)


privacy = PrivacyDeps()


@app.route("/shops/{shop_id}/privacy/requests", methods=["POST"])
def file_privacy_request(shop_id: str) -> Response:
    from chatshop.privacy.requests import PrivacyRequestCreate

    shop = my_messenger_shop(shop_id)
    now = datetime.now(UTC)
    request, new = privacy.desk.file(shop.id, parse_body(PrivacyRequestCreate), "api", now)
    # 202: queued now; 200: the customer's open request of that kind, filed before.
    return json_response(request.view(None).model_dump(mode="json"), status=202 if new else 200)


@app.route("/shops/{shop_id}/privacy/requests/{request_id}", methods=["GET"])
def get_privacy_request(shop_id: str, request_id: str) -> Response:
    shop = my_messenger_shop(shop_id)
    found = privacy.desk.view(shop.id, request_id, privacy.bucket, datetime.now(UTC))
    return json_response(found.model_dump(mode="json"))


# --- marketplace (public) -----------------------------------------------------------------------


@app.route("/marketplace/shops", methods=["GET"])
def marketplace_shops() -> Response:
    country = query_param("country")
    if not country:
        raise ValidationFailed(["country"], "country is required, e.g. ?country=US.")
    page = shops.marketplace_shops(
        deps.shops, deps.rollout, settings.region, country, page_size(), query_param("cursor")
    )
    return json_response(page_body(page))


@app.route("/marketplace/shops/{shop_id}/products", methods=["GET"])
def marketplace_products(shop_id: str) -> Response:
    shop = shops.marketplace_shop(deps.shops, deps.rollout, settings.region, shop_id)
    page = catalog.list_products(
        deps.products,
        shop,
        page_size(),
        query_param("cursor"),
        availability_filter(),
        query_param("category"),
    )
    body = page_body(page)
    sponsored = sponsored_for(shop, query_param("category"))
    if sponsored:  # absent rather than empty, where there are none or ads are not live
        body["sponsored"] = sponsored
    return json_response(body)


def sponsored_for(shop: Shop, category: str | None) -> list[Any]:
    """Up to two of this shop's own sponsored products for its list, from the ad decision."""
    from chatshop.ads.serving import base_url_of

    request = current_request()
    ads = deps.ads.sponsored(
        deps.rollout,
        settings.region,
        shop.country,
        "marketplace_feed",
        base_url_of(request.headers, request.context),
        category=category,
        own_shop=shop.id,
    )
    return [ad.model_dump(mode="json") for ad in ads]
