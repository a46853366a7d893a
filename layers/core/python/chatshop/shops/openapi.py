"""The OpenAPI 3 document of the public API, built from the same pydantic models the routes use.

OPERATIONS is the one list of documented routes; a test keeps it equal to the Chalice routes and
to the template's Api events, so the document cannot drift from what is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chatshop.messaging.channel_models import WhatsAppChannel, WhatsAppChannelConnect

from .domain import (
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
    UploadRequest,
)


class Health(BaseModel):
    status: str
    region: str
    version: str


class ApiKey(BaseModel):
    id: str
    api_key: str


class Upload(BaseModel):
    method: str
    url: str
    headers: dict[str, str]
    fields: dict[str, str]


class ImageUpload(BaseModel):
    image_id: str
    upload: Upload


class FeedUpload(BaseModel):
    upload_key: str
    upload: Upload


class ErrorDetail(BaseModel):
    code: str
    message: str
    correlation_id: str | None = None
    details: dict[str, Any] | None = None


class Error(BaseModel):
    error: ErrorDetail


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    status: int = 200
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    auth: bool = True
    errors: tuple[int, ...] = ()
    parameters: tuple[str, ...] = field(default=())
    feed_body: bool = False


_PAGE = ("limit", "cursor")
_PRODUCT_FILTERS = ("availability", "category")

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("/health", "GET"): Operation("Service health", "service", response=Health, auth=False),
    ("/openapi.json", "GET"): Operation("This document", "service", auth=False),
    ("/merchants", "POST"): Operation(
        "Sign up; the API key is shown this once", "merchants", 201, ApiKey, MerchantCreate, False, (400, 422)
    ),
    ("/merchants/me", "GET"): Operation("The calling merchant", "merchants", response=Merchant),
    ("/merchants/me/api-key", "POST"): Operation(
        "Rotate the API key; the old one stops working", "merchants", 201, ApiKey, errors=(409,)
    ),
    ("/shops", "POST"): Operation("Open a shop", "shops", 201, Shop, ShopCreate, errors=(400, 403, 422)),
    ("/shops", "GET"): Operation("My shops", "shops", response=Page[Shop], parameters=_PAGE, errors=(422,)),
    ("/shops/{shop_id}", "GET"): Operation("A shop of mine", "shops", response=Shop, errors=(403, 404)),
    ("/shops/{shop_id}", "PATCH"): Operation(
        "Change a shop", "shops", response=Shop, request=ShopPatch, errors=(400, 403, 404, 422)
    ),
    ("/shops/{shop_id}", "DELETE"): Operation(
        "Close a shop; its catalog and images are purged", "shops", 204, errors=(403, 404)
    ),
    ("/shops/{shop_id}/products", "POST"): Operation(
        "Add a product", "products", 201, Product, ProductCreate, errors=(400, 403, 404, 409, 422)
    ),
    ("/shops/{shop_id}/products", "GET"): Operation(
        "Products of a shop, a page at a time",
        "products",
        response=Page[Product],
        parameters=_PAGE + _PRODUCT_FILTERS,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/products/{product_id}", "GET"): Operation(
        "A product, with its ETag", "products", response=Product, errors=(403, 404)
    ),
    ("/shops/{shop_id}/products/{product_id}", "PATCH"): Operation(
        "Change a product; needs If-Match with its ETag",
        "products",
        response=Product,
        request=ProductPatch,
        errors=(400, 403, 404, 412, 422, 428),
        parameters=("If-Match",),
    ),
    ("/shops/{shop_id}/products/{product_id}", "DELETE"): Operation(
        "Remove a product", "products", 204, errors=(403, 404)
    ),
    ("/shops/{shop_id}/products/{product_id}/images", "POST"): Operation(
        "A presigned upload for a product image (JPEG, PNG or WebP, up to 10 MB)",
        "products",
        201,
        ImageUpload,
        UploadRequest,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/catalog/uploads", "POST"): Operation(
        "A presigned upload for a large feed",
        "catalog",
        201,
        FeedUpload,
        UploadRequest,
        errors=(403, 404, 422),
    ),
    ("/shops/{shop_id}/catalog/imports", "POST"): Operation(
        "Import a feed in Meta's catalog format (CSV or JSON), or an uploaded one by upload_key; "
        "201 when applied in the request, 202 when queued",
        "catalog",
        201,
        CatalogImport,
        ImportFromUpload,
        errors=(400, 403, 404, 413, 415, 422),
        feed_body=True,
    ),
    ("/shops/{shop_id}/catalog/imports/{import_id}", "GET"): Operation(
        "An import's status and result", "catalog", response=CatalogImport, errors=(403, 404)
    ),
    ("/shops/{shop_id}/channels/whatsapp", "PUT"): Operation(
        "Connect the shop's WhatsApp number; the access token is stored encrypted and never shown",
        "channels",
        response=WhatsAppChannel,
        request=WhatsAppChannelConnect,
        errors=(400, 403, 404, 409, 422),
    ),
    ("/shops/{shop_id}/channels/whatsapp", "GET"): Operation(
        "The shop's WhatsApp channel, without its token",
        "channels",
        response=WhatsAppChannel,
        errors=(403, 404),
    ),
    ("/marketplace/shops", "GET"): Operation(
        "Active shops of a country where the marketplace is live",
        "marketplace",
        response=Page[Shop],
        auth=False,
        parameters=("country", *_PAGE),
        errors=(403, 422),
    ),
    ("/marketplace/shops/{shop_id}/products", "GET"): Operation(
        "Products of a marketplace shop",
        "marketplace",
        response=Page[Product],
        auth=False,
        parameters=_PAGE + _PRODUCT_FILTERS,
        errors=(403, 404, 422),
    ),
}

_ERROR_TEXT = {
    400: "Malformed JSON",
    401: "Missing or wrong API key",
    403: "Not yours, or not available in this region",
    404: "Not found",
    409: "Conflict",
    412: "Stale If-Match",
    413: "Body too large",
    415: "Unsupported Content-Type",
    422: "Invalid input (the fields are named)",
    428: "If-Match required",
}


@lru_cache(maxsize=2)
def openapi_document(version: str) -> dict[str, Any]:
    references, schemas = models_json_schema(
        [(model, "validation") for model in _models()], ref_template="#/components/schemas/{model}"
    )
    refs = {model: reference for (model, _), reference in references.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "chatshop", "version": version},
        "paths": _paths(refs),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _models() -> list[type[BaseModel]]:
    found: dict[type[BaseModel], None] = {Error: None, CatalogImport: None}
    for operation in OPERATIONS.values():
        for model in (operation.request, operation.response):
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
    _ref = refs.__getitem__
    document: dict[str, Any] = {
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(path, operation),
        "responses": _responses(operation, refs),
    }
    if operation.auth:
        document["security"] = [{"bearer": []}]
    if operation.request is not None:
        content = {"application/json": {"schema": _ref(operation.request)}}
        if operation.feed_body:
            content["text/csv"] = {"schema": {"type": "string", "description": "A feed in Meta's CSV format"}}
            content["application/json"] = {
                "schema": {"oneOf": [_ref(operation.request), {"type": "array", "items": {"type": "object"}}]}
            }
        document["requestBody"] = {"required": True, "content": content}
    return document


def _parameters(path: str, operation: Operation) -> list[dict[str, Any]]:
    in_path = [segment.strip("{}") for segment in path.split("/") if segment.startswith("{")]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in in_path
    ]
    for name in operation.parameters:
        location = "header" if name[0].isupper() else "query"
        schema = {"type": "integer", "minimum": 1, "maximum": 100} if name == "limit" else {"type": "string"}
        parameters.append(
            {"name": name, "in": location, "required": name in ("country", "If-Match"), "schema": schema}
        )
    return parameters


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    _ref = refs.__getitem__
    success: dict[str, Any] = {"description": "OK"}
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": _ref(operation.response)}}
    responses = {str(operation.status): success}
    if operation.feed_body:
        responses["202"] = {
            "description": "Queued",
            "content": {"application/json": {"schema": _ref(CatalogImport)}},
        }
    statuses = set(operation.errors) | ({401} if operation.auth else set())
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _ERROR_TEXT[status],
            "content": {"application/json": {"schema": _ref(Error)}},
        }
    return responses
