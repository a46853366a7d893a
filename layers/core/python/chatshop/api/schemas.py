"""Response shapes that exist only on the wire (the domain models cover the rest)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]
    region: str
    version: str


class ModelsHealth(BaseModel):
    image_model_trained: bool
    # local_features: the local-feature matcher ranks photos (no trained image model configured);
    # clip+local_features: the image model proposes, the matcher verifies and re-ranks.
    ranker: Literal["local_features", "clip+local_features"]
    models: dict[str, Any]


class SearchHealth(Health):
    visual_search: ModelsHealth


class ApiKey(BaseModel):
    id: str
    api_key: str


class Upload(BaseModel):
    method: Literal["POST"]
    url: str
    headers: dict[str, str]
    fields: dict[str, str]


class ImageUpload(BaseModel):
    image_id: str
    upload: Upload


class FeedUpload(BaseModel):
    upload_key: str
    upload: Upload


class QueryUpload(BaseModel):
    upload_key: str
    upload: Upload


class WebhookReceipt(BaseModel):
    status: Literal["received"]


class ErrorDetail(BaseModel):
    code: str
    message: str
    correlation_id: str | None = None
    details: dict[str, Any] | None = None


class Error(BaseModel):
    error: ErrorDetail
