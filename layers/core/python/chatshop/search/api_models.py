"""The search API's requests and responses, and how an image arrives in a request.

An image comes as the raw body with its Content-Type, as the file part of a multipart form,
or as ``{"upload_key"}`` naming an object the client uploaded with a presigned POST.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from chatshop.platform.errors import (
    BadRequest,
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from chatshop.shops.domain import CountryCode

MAX_IMAGE_BYTES = 10 * 1024 * 1024
DEFAULT_LIMIT = 10
UPLOAD_PREFIX = "search-uploads/"
UPLOAD_KEY_PATTERN = r"^search-uploads/[0-9a-f]{32}$"


class SearchParams(BaseModel):
    """Query parameters both searches share; strings as API Gateway gives them."""

    model_config = ConfigDict(frozen=True)

    shop_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None
    country: CountryCode | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = DEFAULT_LIMIT
    # "true" or "false", as the document says, rather than every spelling pydantic reads as a bool.
    in_stock: Annotated[Literal["true", "false"], AfterValidator(lambda value: value == "true")] = False


class TextSearchParams(SearchParams):
    # Any length is taken; the search itself reads the first 1,000 characters.
    q: Annotated[str, StringConstraints(min_length=1)]


def parse_params(model: type[SearchParams], query: Mapping[str, str] | None) -> Any:
    known = {name: value for name, value in (query or {}).items() if name in model.model_fields}
    try:
        params = model.model_validate(known)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None
    if (params.shop_id is None) == (params.country is None):
        raise ValidationFailed(["shop_id", "country"], "Give exactly one of shop_id and country.")
    return params


class UploadReference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    upload_key: Annotated[str, StringConstraints(pattern=UPLOAD_KEY_PATTERN)]


class SearchUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    content_type: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100)]


class SearchItem(BaseModel):
    product_id: str
    shop_id: str
    score: float
    product: dict[str, Any]


class SearchResponse(BaseModel):
    items: list[SearchItem]


class ImageSearchItem(SearchItem):
    inliers: int = Field(
        ge=0,
        description="Features of the product's best image that a verified homography maps onto the photo "
        "(0: proposed by the image model, not verified).",
    )


class ImageSearchResponse(BaseModel):
    items: list[ImageSearchItem]
    ranker: Literal["local_features", "clip+local_features", "clip"] = Field(
        description="local_features: the local-feature matcher ranks (no trained image model); "
        "clip+local_features: the image model proposes, the matcher verifies and re-ranks."
    )
    reason: Literal["no_match", "no_features"] | None = Field(
        default=None,
        description="Why items is empty: no product image verified against the photo (no_match), "
        "or the photo has too few features to match anything, such as a flat colour (no_features).",
    )


@dataclass(frozen=True)
class ImageBody:
    data: bytes
    content_type: str | None


def image_from_request(body: bytes, content_type: str | None) -> ImageBody | UploadReference:
    """The image of a search request, or the upload it names; raises 4xx domain errors."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if len(body) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"An image may be at most {MAX_IMAGE_BYTES} bytes.")
    if media_type == "application/json":
        return _upload_reference(body)
    if media_type == "multipart/form-data":
        return _file_part(body, content_type or "")
    if media_type.startswith("image/") or media_type == "application/octet-stream":
        return ImageBody(body, media_type)
    raise UnsupportedMediaType(
        "Send the image as the body with its image/* Content-Type, as multipart/form-data, "
        'or {"upload_key"} as JSON.'
    )


def _upload_reference(body: bytes) -> UploadReference:
    try:
        document = json.loads(body)
    except ValueError:
        raise MalformedJson() from None
    try:
        return UploadReference.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic(exc) from None


def _file_part(body: bytes, content_type: str) -> ImageBody:
    """The first file part of a multipart form (stdlib email parser: the form is at most 10 MB)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise BadRequest("The multipart form could not be read.")
    for part in message.iter_parts():
        if part.get_filename() is not None or part.get_param("name", header="content-disposition") in (
            "file",
            "image",
        ):
            data = part.get_payload(decode=True) or b""
            part_type = part.get_content_type() if part.get("content-type") else None
            return ImageBody(data, part_type)
    raise BadRequest('The form has no file part (send the image as a part named "file").')
