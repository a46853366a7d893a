"""The single HTTP mapping of chatshop's Chalice apps.

Domain errors (and pydantic, JSON and Chalice errors) become ``{"error": {...}}`` responses with
the right status; every response carries ``X-Correlation-Id``; unexpected exceptions become a
500 whose body holds the correlation id and whose traceback goes only to the log.

Why two hooks (read in chalice 1.34, chalice/app.py):

* ``RestAPIEventHandler._get_view_function_response`` catches whatever a view raises and builds
  the response itself: a ``ChaliceViewError`` becomes ``{"Code", "Message"}`` with its
  ``STATUS_CODE``; anything else a generic 500 (or, with ``app.debug``, the traceback as the
  body). Only ``ChaliceUnhandledError`` reaches middleware, so an ``http`` middleware never
  sees a view's exception, only the finished Response.
* Chalice also answers some requests without any exception: 405 for an unrouted method, 415
  for a Content-Type the route does not accept, 500 for an event without a resource path.

So each view is wrapped where Chalice registers routes (``_register_route``: the one place app
and blueprint routes both pass), mapping its exceptions before Chalice can swallow them, and one
``@app.middleware("http")`` sets the correlation id, rewrites Chalice's own error responses into
our shape, maps anything raised outside a view and stamps the header. Both use
:func:`error_response`.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

import chalice
from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chatshop.platform import errors
from chatshop.platform.observability import correlation_scope, get_correlation_id, get_logger

__all__ = [
    "CORRELATION_HEADER",
    "create_app",
    "current_request",
    "error_response",
    "parse_body",
    "to_domain_error",
]

CORRELATION_HEADER = "X-Correlation-Id"

_M = TypeVar("_M", bound=BaseModel)

# Chalice keeps the request on the app object (shared by threads); ours is context-local.
_current_request: ContextVar[Request | None] = ContextVar("chatshop_current_request", default=None)

# A request id we are willing to echo in a header and in logs.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

# Chalice's json_body raises BadRequestError with exactly this message when the body won't parse.
_CHALICE_JSON_ERROR = "Error Parsing JSON"

_BY_STATUS: dict[int, Callable[[str | None], errors.ChatshopError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    412: errors.PreconditionFailed,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: lambda message: errors.ValidationFailed(message=message),
    429: errors.TooManyRequests,
    503: errors.Unavailable,
}


class _App(chalice.Chalice):
    """Chalice with every route's view wrapped by :func:`_mapped_view` (see the module doc)."""

    def _register_route(
        self, name: str, user_handler: Callable[..., Any], kwargs: Any, **unused: Any
    ) -> None:
        super()._register_route(name=name, user_handler=_mapped_view(user_handler), kwargs=kwargs, **unused)


def create_app(app_name: str) -> chalice.Chalice:
    """A Chalice app with chatshop's error mapping and correlation ids installed."""
    # configure_logs=False: Chalice would put a plain-text handler at ERROR level on
    # logging.getLogger(app_name), the very std logger powertools uses for a service of that name.
    # env={}: Chalice writes AWS_EXECUTION_ENV into the env it is given (default os.environ);
    # importing a function must not change a process environment other functions share.
    app = _App(app_name, configure_logs=False, env={})
    app.register_middleware(_http_middleware, "http")
    return app


def current_request() -> Request:
    """The request this context is handling (set by the middleware of :func:`create_app`)."""
    request = _current_request.get()
    if request is None:
        raise RuntimeError("no HTTP request is being handled in this context")
    return request


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def query_param(name: str) -> str | None:
    """One query string parameter of the current request, or None."""
    return (current_request().query_params or {}).get(name)


DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size() -> int:
    """``?limit=`` of a listing: 1 to MAX_PAGE, DEFAULT_PAGE when absent; anything else is a 422."""
    raw = query_param("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise errors.ValidationFailed(["limit"], f"limit must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)


def parse_body(model: type[_M], *, request: Request | None = None, max_bytes: int | None = None) -> _M:
    """The current request's JSON body validated as ``model``.

    Raises MalformedJson (400) for a missing or unparsable body, PayloadTooLarge (413) over
    ``max_bytes`` and ValidationFailed (422, naming the fields) when the model rejects it.
    The raw body is parsed here rather than via ``json_body``, which returns None whenever the
    client left out the Content-Type header.
    """
    if request is None:
        request = current_request()
    raw = request.raw_body
    if max_bytes is not None and len(raw) > max_bytes:
        raise errors.PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
    if not raw.strip():
        raise errors.MalformedJson("A JSON request body is required.")
    try:
        data = json.loads(raw)
    except ValueError:
        raise errors.MalformedJson() from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.ValidationFailed.from_pydantic(exc) from None


def to_domain_error(exc: BaseException) -> errors.ChatshopError:
    """What the client is told about ``exc``; anything unexpected is a bare internal error."""
    if isinstance(exc, errors.ChatshopError):
        return exc
    if isinstance(exc, ValidationError):
        return errors.ValidationFailed.from_pydantic(exc)
    if isinstance(exc, chalice.BadRequestError) and str(exc) == _CHALICE_JSON_ERROR:
        return errors.MalformedJson()
    if isinstance(exc, chalice.ChaliceViewError):
        return _from_status(exc.STATUS_CODE, str(exc) or None)
    return errors.InternalError()


def error_response(exc: BaseException, headers: dict[str, str] | None = None) -> Response:
    """The JSON error Response for ``exc``, logged: 5xx with the traceback, 4xx as one info line."""
    error = to_domain_error(exc)
    _log_error(error, type(exc).__name__, exc)
    out = {"Content-Type": "application/json", **(headers or {})}
    if isinstance(error, errors.TooManyRequests) and error.retry_after is not None:
        out["Retry-After"] = str(error.retry_after)
    return Response(body=error.to_body(get_correlation_id()), status_code=error.status, headers=out)


def _from_status(status: int, message: str | None) -> errors.ChatshopError:
    if status >= 500:
        # A 5xx message may hold internals; the client gets the generic one.
        return errors.Unavailable() if status == 503 else errors.InternalError()
    factory = _BY_STATUS.get(status, errors.BadRequest)
    return factory(message)


def _log_error(error: errors.ChatshopError, cause: str, exc: BaseException | None = None) -> None:
    request = _current_request.get()
    extra = {
        "error_code": error.code,
        "status": error.status,
        "path": getattr(request, "path", None),
        "method": getattr(request, "method", None),
        "cause": cause,
    }
    logger = get_logger()
    if error.status >= 500:
        # The traceback goes here, and only here: never into a response body.
        logger.error("Request failed", exc_info=exc, extra=extra)
    else:
        logger.info("Request rejected", extra=extra)


def _mapped_view(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except chalice.ChaliceUnhandledError:
            # Chalice's contract: this one is for middleware (ours maps it if nobody else does).
            raise
        except Exception as exc:
            return error_response(exc)

    return mapped


def _correlation_id_of(request: Request | None) -> str:
    if request is not None:
        candidates = (
            request.context.get("requestId"),
            getattr(request.lambda_context, "aws_request_id", None),
        )
        for candidate in candidates:
            if isinstance(candidate, str) and _SAFE_ID.fullmatch(candidate):
                return candidate
    return str(uuid.uuid4())


def _chalice_error_to_ours(response: Response) -> Response:
    body = response.body
    if response.status_code < 400 or not isinstance(body, dict) or set(body) != {"Code", "Message"}:
        return response
    error = _from_status(response.status_code, str(body["Message"]))
    _log_error(error, f"chalice:{body['Code']}")
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return Response(
        body=error.to_body(get_correlation_id()),
        status_code=error.status,
        headers={"Content-Type": "application/json", **headers},
    )


def _http_middleware(request: Request | None, get_response: Callable[[Any], Response]) -> Response:
    correlation_id = _correlation_id_of(request)
    token = _current_request.set(request)
    try:
        with correlation_scope(correlation_id):
            try:
                response = _chalice_error_to_ours(get_response(request))
            except Exception as exc:
                response = error_response(exc)
            response.headers[CORRELATION_HEADER] = correlation_id
            return response
    finally:
        _current_request.reset(token)
