"""The domain error model: every error a client may see, with its code and HTTP status.

Pure: no I/O and no web framework, so event functions raise the same errors the HTTP
mapping (`chatshop.platform.http`) turns into responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "BadRequest",
    "ChatshopError",
    "Conflict",
    "FeatureNotAvailable",
    "Forbidden",
    "InternalError",
    "MalformedJson",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "PreconditionRequired",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "UnsupportedMediaType",
    "ValidationFailed",
    "error_body",
]


def error_body(
    code: str,
    message: str,
    correlation_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The one JSON error shape: ``{"error": {"code", "message"[, "correlation_id"][, "details"]}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if correlation_id is not None:
        error["correlation_id"] = correlation_id
    if details is not None:
        error["details"] = dict(details)
    return {"error": error}


class ChatshopError(Exception):
    """Base of every domain error; ``message`` and ``details`` are safe to show a client."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "An internal error occurred."

    def __init__(self, message: str | None = None, *, details: Mapping[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = dict(details) if details is not None else None
        super().__init__(self.message)

    def to_body(self, correlation_id: str | None = None) -> dict[str, Any]:
        return error_body(self.code, self.message, correlation_id, self.details)


class BadRequest(ChatshopError):
    code = "bad_request"
    status = 400
    default_message = "The request is not valid."


class MalformedJson(ChatshopError):
    code = "malformed_json"
    status = 400
    default_message = "The request body is not valid JSON."


class Unauthorized(ChatshopError):
    code = "unauthorized"
    status = 401
    default_message = "Authentication is required."


class Forbidden(ChatshopError):
    code = "forbidden"
    status = 403
    default_message = "You are not allowed to do this."


class FeatureNotAvailable(ChatshopError):
    """A feature not switched on for a country (or not served from this region)."""

    code = "feature_not_available_in_region"
    status = 403

    def __init__(self, feature: str, country: str) -> None:
        self.feature = feature
        self.country = country
        super().__init__(
            f"{feature} is not available in country {country}.",
            details={"feature": feature, "country": country},
        )


class NotFound(ChatshopError):
    code = "not_found"
    status = 404
    default_message = "The resource was not found."


class MethodNotAllowed(ChatshopError):
    code = "method_not_allowed"
    status = 405
    default_message = "This method is not allowed on this resource."


class Conflict(ChatshopError):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(ChatshopError):
    code = "precondition_failed"
    status = 412
    default_message = "A precondition of the request failed."


class PreconditionRequired(ChatshopError):
    code = "precondition_required"
    status = 428
    default_message = "This change needs an If-Match header with the resource's ETag."


class Misdirected(ChatshopError):
    """A request this region does not serve, sent here by another region (a relayed webhook)."""

    code = "misdirected"
    status = 421
    default_message = "This region does not serve this request."


class PayloadTooLarge(ChatshopError):
    code = "payload_too_large"
    status = 413
    default_message = "The request body is too large."


class UnsupportedMediaType(ChatshopError):
    # Not in the guide's list, but Chalice answers 415 itself for a wrong Content-Type and the
    # mapping needs a code for it.
    code = "unsupported_media_type"
    status = 415
    default_message = "The request's Content-Type is not supported."


class ValidationFailed(ChatshopError):
    """Input that parsed but broke a rule; ``fields`` names every offending field (dotted paths)."""

    code = "validation_error"
    status = 422

    def __init__(
        self,
        fields: Iterable[str] = (),
        message: str | None = None,
        *,
        errors: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        self.fields = list(dict.fromkeys(fields))
        if message is None:
            message = (
                f"Invalid value for: {', '.join(self.fields)}." if self.fields else "The input is not valid."
            )
        details: dict[str, Any] = {"fields": self.fields}
        if errors:
            details["errors"] = [dict(e) for e in errors]
        super().__init__(message, details=details)

    @classmethod
    def from_pydantic(cls, exc: ValidationError) -> ValidationFailed:
        # Only loc, msg and type go out: pydantic's "input" would echo client data (and maybe a
        # secret) back into responses and logs.
        errors = [
            {"field": _dotted(err["loc"]), "message": err["msg"], "type": err["type"]} for err in exc.errors()
        ]
        return cls([e["field"] for e in errors], errors=errors)


class TooManyRequests(ChatshopError):
    code = "too_many_requests"
    status = 429
    default_message = "Too many requests; slow down and retry later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InternalError(ChatshopError):
    code = "internal_error"
    status = 500
    default_message = "An internal error occurred."


class Unavailable(ChatshopError):
    code = "unavailable"
    status = 503
    default_message = "The service is temporarily unavailable; retry later."


def _dotted(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) if loc else "(root)"
