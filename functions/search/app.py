"""Search function: find products by photo or by words, in one shop or a country's marketplace.

Public, like the marketplace. Each route parses its input, calls one function of
``chatshop.search.service`` and shapes the answer; errors become the project's error model in
``chatshop.platform.http``. The models load on the first search, not on import.
"""

from __future__ import annotations

import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalice import Response

import chatshop
from chatshop.platform.config import Settings, load_settings
from chatshop.platform.errors import NotFound, ValidationFailed
from chatshop.platform.http import create_app, current_request, json_response, parse_body
from chatshop.platform.rollout import Rollout, load_rollout
from chatshop.search.api_models import (
    MAX_IMAGE_BYTES,
    UPLOAD_PREFIX,
    ImageBody,
    ImageSearchItem,
    ImageSearchResponse,
    SearchItem,
    SearchParams,
    SearchResponse,
    SearchUploadRequest,
    TextSearchParams,
    image_from_request,
    parse_params,
)
from chatshop.search.service import (
    ImageSearch,
    SearchResult,
    SearchScope,
    SearchService,
    resolve_scope,
    search_service_for,
)
from chatshop.shops.media import IMAGE_CONTENT_TYPES, MediaBucket, with_image_urls

if TYPE_CHECKING:
    from PIL.Image import Image

    from chatshop.ads.serving import AdServer
    from chatshop.search.embedder import SentenceTransformersEmbedder
    from chatshop.search.indexer import MediaObjects
    from chatshop.shops.shop_store import ShopStore

# Read once per function sandbox, under this function's own environment.
settings = load_settings()
app = create_app("search")


class Dependencies:
    """Models, indexes and stores, made on first use so a cold start pays only for what a route needs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def embedder(self) -> SentenceTransformersEmbedder:
        from chatshop.search.embedder import SentenceTransformersEmbedder

        return SentenceTransformersEmbedder(self.settings)

    @cached_property
    def service(self) -> SearchService:
        return search_service_for(self.settings, self.embedder)

    @cached_property
    def shops(self) -> ShopStore:
        from chatshop.shops.shop_store import ShopStore

        return ShopStore(self.settings)

    @cached_property
    def bucket(self) -> MediaBucket:
        return MediaBucket(self.settings)

    @cached_property
    def media(self) -> MediaObjects:
        from chatshop.search.indexer import MediaObjects

        return MediaObjects(self.settings)

    @cached_property
    def ads(self) -> AdServer:
        from chatshop.ads.serving import AdServer

        return AdServer(self.settings)

    @property
    def rollout(self) -> Rollout:
        return load_rollout(settings=self.settings)


deps = Dependencies(settings)


def scope_of(params: SearchParams) -> SearchScope:
    return resolve_scope(
        deps.shops, deps.rollout, settings.region, params.shop_id, params.country, params.in_stock
    )


def results_body(results: list[SearchResult]) -> dict[str, Any]:
    items = [
        SearchItem(
            product_id=result.product_id,
            shop_id=result.shop_id,
            score=result.score,
            product=with_image_urls(deps.bucket, result.product).model_dump(mode="json"),
        )
        for result in results
    ]
    return SearchResponse(items=items).model_dump(mode="json")


def image_results_body(found: ImageSearch) -> dict[str, Any]:
    items = [
        ImageSearchItem(
            product_id=result.product_id,
            shop_id=result.shop_id,
            score=result.score,
            inliers=result.inliers or 0,
            product=with_image_urls(deps.bucket, result.product).model_dump(mode="json"),
        )
        for result in found.results
    ]
    return ImageSearchResponse(items=items, ranker=found.ranker, reason=found.reason).model_dump(mode="json")


def request_image() -> Image:
    from chatshop.search.images import validate_image

    request = current_request()
    found = image_from_request(request.raw_body, request.headers.get("content-type"))
    if not isinstance(found, ImageBody):
        data = deps.media.read(found.upload_key, MAX_IMAGE_BYTES)
        if data is None:
            # A well-formed key whose upload never happened (or expired): a missing resource.
            raise NotFound("Nothing was uploaded under this upload_key.")
        found = ImageBody(data, None)
    return validate_image(found.data, found.content_type, max_bytes=MAX_IMAGE_BYTES).image


# --- routes -------------------------------------------------------------------------------------


@app.route("/search/health", methods=["GET"])
def health() -> dict[str, Any]:
    from chatshop.search.models import models_health
    from chatshop.search.service import image_ranker

    models = models_health(settings)
    trained = bool(models["image"]["trained"])
    return {
        "status": "ok",
        "region": settings.region,
        "version": chatshop.__version__,
        "visual_search": {"image_model_trained": trained, "ranker": image_ranker(trained), "models": models},
    }


# Every Content-Type is let through: the image's own type decides, and a wrong one gets our 415.
@app.route("/search/image", methods=["POST"], content_types=["*/*"])
def search_by_image() -> Response:
    params = parse_params(SearchParams, current_request().query_params)
    scope = scope_of(params)
    # The photo before the service: a bad one is refused without loading a model.
    image = request_image()
    return json_response(image_results_body(deps.service.image_search(image, scope, params.limit)))


@app.route("/search", methods=["GET"])
def search_by_text() -> Response:
    params = parse_params(TextSearchParams, current_request().query_params)
    scope = scope_of(params)
    results = deps.service.by_text(params.q, scope, params.limit)
    body = results_body(results)
    sponsored = sponsored_for(params, scope, results)
    if sponsored:  # absent rather than empty, where there are none or ads are not live
        body["sponsored"] = sponsored
    return json_response(body)


def sponsored_for(params: TextSearchParams, scope: SearchScope, results: list[SearchResult]) -> list[Any]:
    """Up to two sponsored results from the ad decision, matched to the query by its words and by
    the products this search ranked (their scores, relative to the best, stand for the semantic
    similarity the search already computed: the query is not embedded again)."""
    from chatshop.ads.serving import base_url_of

    best = max((result.score for result in results), default=0.0)
    semantic = {r.product_id: r.score / best for r in results} if best > 0 else None
    request = current_request()
    ads = deps.ads.sponsored(
        deps.rollout,
        settings.region,
        scope.country,
        "search",
        base_url_of(request.headers, request.context),
        query=params.q,
        semantic=semantic,
        own_shop=scope.shop_id,
    )
    return [ad.model_dump(mode="json") for ad in ads]


@app.route("/search/uploads", methods=["POST"])
def upload_query_image() -> Response:
    """A presigned POST for a photo too large to send through the API comfortably."""
    request = parse_body(SearchUploadRequest)
    if request.content_type not in IMAGE_CONTENT_TYPES:
        raise ValidationFailed(["content_type"], f"Images must be one of {', '.join(IMAGE_CONTENT_TYPES)}.")
    key = f"{UPLOAD_PREFIX}{uuid.uuid4().hex}"
    upload = deps.bucket.presigned_post(key, request.content_type, MAX_IMAGE_BYTES)
    return json_response({"upload_key": key, "upload": upload}, status=201)
