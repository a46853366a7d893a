"""The domain error model and the one JSON error shape."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from chatshop.platform import errors
from chatshop.platform.errors import ChatshopError, error_body


def test_error_body_is_exactly_code_and_message() -> None:
    assert error_body("not_found", "No such shop.") == {
        "error": {"code": "not_found", "message": "No such shop."}
    }


def test_error_body_puts_correlation_id_and_details_inside_the_error() -> None:
    body = error_body("conflict", "Taken.", correlation_id="req-1", details={"field": "slug"})

    assert body == {
        "error": {
            "code": "conflict",
            "message": "Taken.",
            "correlation_id": "req-1",
            "details": {"field": "slug"},
        }
    }


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.BadRequest(), 400, "bad_request"),
        (errors.MalformedJson(), 400, "malformed_json"),
        (errors.Unauthorized(), 401, "unauthorized"),
        (errors.Forbidden(), 403, "forbidden"),
        (errors.FeatureNotAvailable("shop_ads", "DE"), 403, "feature_not_available_in_region"),
        (errors.NotFound(), 404, "not_found"),
        (errors.MethodNotAllowed(), 405, "method_not_allowed"),
        (errors.Conflict(), 409, "conflict"),
        (errors.PreconditionFailed(), 412, "precondition_failed"),
        (errors.PayloadTooLarge(), 413, "payload_too_large"),
        (errors.UnsupportedMediaType(), 415, "unsupported_media_type"),
        (errors.ValidationFailed(["name"]), 422, "validation_error"),
        (errors.TooManyRequests(), 429, "too_many_requests"),
        (errors.InternalError(), 500, "internal_error"),
        (errors.Unavailable(), 503, "unavailable"),
    ],
)
def test_every_error_has_its_status_code_and_a_message(error: ChatshopError, status: int, code: str) -> None:
    assert isinstance(error, ChatshopError)
    assert (error.status, error.code) == (status, code)
    assert error.message
    assert str(error) == error.message


def test_a_message_and_details_given_by_the_caller_are_kept() -> None:
    error = errors.NotFound("No shop 'acme'.", details={"shop": "acme"})

    assert error.to_body("req-9") == {
        "error": {
            "code": "not_found",
            "message": "No shop 'acme'.",
            "correlation_id": "req-9",
            "details": {"shop": "acme"},
        }
    }


def test_feature_not_available_names_the_feature_and_the_country() -> None:
    error = errors.FeatureNotAvailable("marketplace_shops", "DE")

    assert "marketplace_shops" in error.message and "DE" in error.message
    assert error.details == {"feature": "marketplace_shops", "country": "DE"}


class _Dimensions(BaseModel):
    width_mm: int


class _Product(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    dimensions: _Dimensions


def test_validation_failed_from_pydantic_names_fields_as_dotted_paths_without_the_input() -> None:
    # Given a payload with a bad nested field, a missing field and an extra field holding a secret
    with pytest.raises(ValidationError) as caught:
        _Product.model_validate({"dimensions": {"width_mm": "wide"}, "api_key": "sk-live-123"})

    # When
    error = errors.ValidationFailed.from_pydantic(caught.value)

    # Then
    assert error.fields == ["name", "dimensions.width_mm", "api_key"]
    assert "name" in error.message and "dimensions.width_mm" in error.message
    assert [e["field"] for e in error.details["errors"]] == error.fields
    assert "sk-live-123" not in repr(error.to_body())
