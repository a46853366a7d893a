"""Pure core of the local API Gateway emulator (REST API, Lambda proxy integration, payload 1.0).

No I/O happens here: an HTTP server hands in an :class:`HttpRequest`, gets a :class:`RouteMatch` from
:class:`RouteTable`, builds the Lambda event with :func:`build_proxy_event`, invokes the function and maps
its result back with :func:`proxy_result_to_http`. Its own failures are rendered by :func:`gateway_error`.

Where AWS's behaviour is not documented, the choice made is stated next to the code that makes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, unquote

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024  # API Gateway REST payload limit
MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda sync response limit: a larger proxy result -> 502

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
ANY_METHOD = "ANY"

# ---------------------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    resource: str  # template path, e.g. "/shops/{shop_id}" or "/files/{proxy+}"
    method: str  # "GET", ..., or "ANY"
    target: str  # function logical id in the template


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]  # URL-decoded; a greedy {name+} captures the rest, slashes included


class NoRoute(Exception):
    """No resource matches the request path."""


class MethodNotAllowed(Exception):
    """A resource matches the path but defines no route for the method."""

    def __init__(self, allowed: Sequence[str]) -> None:
        self.allowed: list[str] = sorted(allowed)
        super().__init__(f"method not allowed; allowed: {', '.join(self.allowed)}")


_PARAM_SEGMENT = re.compile(r"^\{([A-Za-z0-9._-]+)(\+?)\}$")
_STATIC_SEGMENT = re.compile(r"^[^{}/]+$")


@dataclass
class _Node:
    resource: str
    static: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None
    routes: dict[str, Route] = field(default_factory=dict)  # method (upper case, or ANY) -> route


class RouteTable:
    """Resolves (method, raw path) to a route with API Gateway's precedence.

    At each path segment a static segment beats ``{param}``, which beats ``{greedy+}``. When a more
    specific branch cannot reach a resource that has routes, matching backtracks to the next branch.
    The first resource (in that order) that has at least one route is the match; its methods decide
    between a :class:`RouteMatch` and :class:`MethodNotAllowed` - a less specific resource that happens
    to have the method is never consulted (API Gateway picks the resource before the method).
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._root = _Node(resource="/")
        for route in routes:
            self._add(route)

    def resources(self) -> list[str]:
        found: list[str] = []
        pending = [self._root]
        while pending:
            node = pending.pop()
            if node.routes:
                found.append(node.resource)
            pending.extend(node.static.values())
            pending.extend(entry[1] for entry in (node.param, node.greedy) if entry is not None)
        return sorted(found)

    def match(self, method: str, path: str) -> RouteMatch:
        segments = _path_segments(path)
        if segments is None:
            raise NoRoute(path)
        found = _search(self._root, segments, 0, {})
        if found is None:
            raise NoRoute(path)
        node, params = found
        route = node.routes.get(method) or node.routes.get(ANY_METHOD)
        if route is None:
            raise MethodNotAllowed(list(node.routes))
        return RouteMatch(route=route, path_parameters=params)

    def _add(self, route: Route) -> None:
        method = route.method.upper()
        if method != ANY_METHOD and method not in HTTP_METHODS:
            raise ValueError(f"unsupported method {route.method!r} for {route.resource}")
        node = self._root
        names: set[str] = set()
        segments = _template_segments(route.resource)
        for index, segment in enumerate(segments):
            node = _child_for(node, segment, is_last=index == len(segments) - 1, names=names)
        if method in node.routes:
            raise ValueError(f"duplicate route {method} {route.resource}")
        node.routes[method] = route


def _template_segments(resource: str) -> list[str]:
    if resource == "/":
        return []
    if not resource.startswith("/") or resource.endswith("/") or "//" in resource:
        raise ValueError(f"invalid resource path {resource!r}")
    return resource[1:].split("/")


def _child_for(node: _Node, segment: str, *, is_last: bool, names: set[str]) -> _Node:
    resource = node.resource.rstrip("/") + "/" + segment
    templated = _PARAM_SEGMENT.match(segment)
    if templated is None:
        if not _STATIC_SEGMENT.match(segment):
            raise ValueError(f"invalid path part {segment!r} in {resource}")
        return node.static.setdefault(segment, _Node(resource=resource))
    name, greedy = templated.group(1), templated.group(2) == "+"
    if name in names:
        raise ValueError(f"path parameter {name!r} repeated in {resource}")
    names.add(name)
    if greedy and not is_last:
        raise ValueError(f"greedy parameter must be the last path part: {resource}")
    existing = node.greedy if greedy else node.param
    if existing is not None:
        if existing[0] != name:
            raise ValueError(
                f"sibling path parameters {{{existing[0]}}} and {{{name}}} under {node.resource}"
            )
        return existing[1]
    child = _Node(resource=resource)
    if greedy:
        node.greedy = (name, child)
    else:
        node.param = (name, child)
    return child


def _path_segments(path: str) -> list[str] | None:
    """Raw segments of a request path; API Gateway ignores one trailing slash ("/shops/" is "/shops")."""
    if not path.startswith("/"):
        return None
    if path != "/" and path.endswith("/"):
        path = path[:-1]
    return [] if path == "/" else path[1:].split("/")


def _search(
    node: _Node, segments: list[str], index: int, params: dict[str, str]
) -> tuple[_Node, dict[str, str]] | None:
    if index == len(segments):
        return (node, params) if node.routes else None
    segment = segments[index]
    static = node.static.get(segment)
    if static is not None:
        found = _search(static, segments, index + 1, params)
        if found is not None:
            return found
    if node.param is not None and segment:
        name, child = node.param
        found = _search(child, segments, index + 1, {**params, name: _decode(segment)})
        if found is not None:
            return found
    if node.greedy is not None:
        name, child = node.greedy
        rest = "/".join(segments[index:])
        if rest and child.routes:
            return child, {**params, name: _decode(rest)}
    return None


def _decode(raw: str) -> str:
    return unquote(raw, encoding="utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------------------
# Request -> Lambda proxy event (payload format 1.0)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # raw path without query string, as received (percent-encoded)
    query_string: str  # raw query string without "?"
    headers: list[tuple[str, str]]  # in order, duplicates allowed, original case
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class GatewayContext:
    stage: str = "local"
    api_id: str = "local"
    account_id: str = "123456789012"
    region: str = "us-east-1"
    binary_media_types: tuple[str, ...] = ("image/*", "application/octet-stream", "multipart/form-data")


class PayloadTooLarge(Exception):
    """The request body exceeds MAX_REQUEST_BODY_BYTES; answer 413 instead of invoking the function."""


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def build_proxy_event(
    request: HttpRequest, match: RouteMatch, context: GatewayContext, request_id: str, now: datetime
) -> dict:
    """The event API Gateway's REST API passes to a Lambda proxy integration for this request."""
    if len(request.body) > MAX_REQUEST_BODY_BYTES:
        raise PayloadTooLarge(f"request body of {len(request.body)} bytes exceeds {MAX_REQUEST_BODY_BYTES}")
    headers, multi_headers = _event_headers(request.headers)
    query, multi_query = _event_query(request.query_string)
    body, is_base64 = _event_body(request.body, _header_value(request.headers, "content-type"), context)
    return {
        "resource": match.route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": None,
        "requestContext": _request_context(request, match, context, request_id, now),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _event_headers(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Last value wins in ``headers``; ``multiValueHeaders`` keeps all values in order.

    Names are grouped case-sensitively, as received: API Gateway documents that it processes header
    names in a case-sensitive way for Lambda integrations.
    """
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _event_query(raw: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """Decoded names and values ('+' is a space, as API Gateway does); blank values are kept."""
    pairs = parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="replace")
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def _event_body(body: bytes, content_type: str | None, context: GatewayContext) -> tuple[str | None, bool]:
    if not body:
        return None, False
    if content_type is not None and is_binary_media_type(content_type, context.binary_media_types):
        return base64.b64encode(body).decode("ascii"), True
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def is_binary_media_type(content_type: str, binary_media_types: Iterable[str]) -> bool:
    """Whether a Content-Type (parameters ignored) matches one of the API's binary media types.

    ``*`` stands for a whole type or subtype: ``image/*`` matches ``image/png``, ``*/*`` matches all.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media_type.partition("/")
    if not kind or not subtype:
        return False
    for pattern in binary_media_types:
        p_kind, _, p_subtype = pattern.strip().lower().partition("/")
        if p_kind in ("*", kind) and p_subtype in ("*", subtype):
            return True
    return False


def _header_value(pairs: Iterable[tuple[str, str]], name: str) -> str | None:
    """Last value of a header, looked up case-insensitively."""
    wanted = name.lower()
    found = None
    for key, value in pairs:
        if key.lower() == wanted:
            found = value
    return found


def _request_context(
    request: HttpRequest, match: RouteMatch, context: GatewayContext, request_id: str, now: datetime
) -> dict:
    when = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    domain_name = (_header_value(request.headers, "host") or "").strip() or (
        f"{context.api_id}.execute-api.{context.region}.amazonaws.com"
    )
    return {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": domain_name,
        "domainPrefix": _domain_prefix(domain_name),
        "extendedRequestId": extended_request_id(request_id),
        "httpMethod": request.method,
        "identity": {
            "accessKey": None,
            "accountId": None,
            "apiKey": None,
            "apiKeyId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": request.source_ip,
            "user": None,
            "userAgent": _header_value(request.headers, "user-agent"),
            "userArn": None,
        },
        "path": f"/{context.stage}{request.path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": (
            f"{when.day:02d}/{_MONTHS[when.month - 1]}/{when.year:04d}:"
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} +0000"
        ),
        "requestTimeEpoch": (when - _EPOCH) // timedelta(milliseconds=1),
        "resourceId": _resource_id(context.api_id, match.route.resource),
        "resourcePath": match.route.resource,
        "stage": context.stage,
    }


def _domain_prefix(domain_name: str) -> str:
    """First label of the host name, port removed ("localhost:3000" -> "localhost")."""
    host = domain_name
    if host.startswith("["):  # IPv6 literal: there are no labels, use the address itself
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if ":" in host else host
    return host.split(".", 1)[0]


def _resource_id(api_id: str, resource: str) -> str:
    """A stable, AWS-looking 6-character id per resource (real ones look like "roq9wj")."""
    return hashlib.sha256(f"{api_id}:{resource}".encode()).hexdigest()[:6]


def extended_request_id(request_id: str) -> str:
    """A stable, AWS-looking extended request id derived from the request id (e.g. "LgLfLG0cIAMFeYA=")."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()[:11]).decode("ascii")


# ---------------------------------------------------------------------------------------------------------
# Lambda proxy result -> HTTP response
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class MalformedProxyResponse(ValueError):
    """The function's result is not a valid proxy response; API Gateway answers 502."""


_RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_FORBIDDEN_VALUE_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Response headers API Gateway (REST) renames to x-amzn-Remapped-<name>, or drops.
_REMAPPED = frozenset(
    {
        "age",
        "authorization",
        "connection",
        "content-md5",
        "date",
        "max-forwards",
        "server",
        "user-agent",
        "www-authenticate",
    }
)
# Content-Length is dropped too: the HTTP server frames the body it actually sends.
_DROPPED = frozenset({"content-length", "expect", "host", "te", "trailer", "transfer-encoding", "upgrade"})
_GATEWAY_OWNED = frozenset({"x-amzn-requestid", "x-amz-apigw-id"})
_INTERNAL_ERROR_BODY = b'{"message": "Internal server error"}'


def proxy_result_to_http(result: object, request_id: str) -> HttpResponse:
    """Map a Lambda proxy result to the HTTP response; anything malformed becomes API Gateway's 502."""
    try:
        return map_proxy_result(result, request_id)
    except MalformedProxyResponse:
        return malformed_proxy_response(request_id)


def malformed_proxy_response(request_id: str) -> HttpResponse:
    """API Gateway's answer to a malformed proxy result or a failed invocation (502)."""
    return HttpResponse(
        status=502,
        headers=[
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", "InternalServerErrorException"),
            ("x-amz-apigw-id", extended_request_id(request_id)),
        ],
        body=_INTERNAL_ERROR_BODY,
    )


def map_proxy_result(result: object, request_id: str) -> HttpResponse:
    """Like :func:`proxy_result_to_http` but raises :class:`MalformedProxyResponse` saying what is wrong.

    The server can call this to log why a function's response became a 502.
    """
    if not isinstance(result, dict):
        raise MalformedProxyResponse(f"result must be an object, got {type(result).__name__}")
    _check_size(result)
    unknown = set(result) - _RESULT_KEYS
    if unknown:
        raise MalformedProxyResponse(f"unexpected keys in result: {sorted(map(str, unknown))}")
    status = _status(result.get("statusCode"))
    headers = _merge_headers(result.get("headers"), result.get("multiValueHeaders"))
    body = _body(result.get("body"), result.get("isBase64Encoded"))
    return HttpResponse(status=status, headers=_finish_headers(headers, request_id), body=body)


def _check_size(result: dict) -> None:
    try:
        size = len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace"))
    except (TypeError, ValueError) as error:
        raise MalformedProxyResponse(f"result is not JSON-serialisable: {error}") from error
    if size > MAX_LAMBDA_RESPONSE_BYTES:
        raise MalformedProxyResponse(f"result of {size} bytes exceeds {MAX_LAMBDA_RESPONSE_BYTES}")


def _status(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedProxyResponse(f"statusCode must be an integer, got {value!r}")
    if not 100 <= value <= 599:
        raise MalformedProxyResponse(f"statusCode out of range: {value}")
    return value


def _merge_headers(single: object, multi: object) -> list[tuple[str, str]]:
    """Merge ``headers`` into ``multiValueHeaders`` (names compared case-insensitively).

    All multiValueHeaders values are kept, in order; a single-value header is appended to its name's
    values only if that exact value is not already there (AWS: "if the same key-value pair is specified
    in both, only the values from multiValueHeaders will appear"). The first spelling seen names the header.
    """
    groups: dict[str, tuple[str, list[str]]] = {}
    for name, values in _mapping(multi, "multiValueHeaders").items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] must be a list")
        group = groups.setdefault(name.lower(), (name, []))[1]
        group.extend(_header_text(name, value) for value in values)
    for name, value in _mapping(single, "headers").items():
        text = _header_text(name, value)
        group = groups.setdefault(name.lower(), (name, []))[1]
        if text not in group:
            group.append(text)
    return [(name, value) for name, values in groups.values() for value in values]


def _mapping(value: object, key: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedProxyResponse(f"{key} must be an object")
    for name in value:
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise MalformedProxyResponse(f"invalid header name {name!r} in {key}")
    return value


def _header_text(name: str, value: object) -> str:
    """Header values may be strings, numbers or booleans (rendered as JSON would); CR/LF is rejected."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = json.dumps(value)
    else:
        raise MalformedProxyResponse(f"header {name!r} has a non-scalar value {value!r}")
    if _FORBIDDEN_VALUE_CHARS.search(text):
        raise MalformedProxyResponse(f"header {name!r} contains control characters")
    return text


def _body(body: object, is_base64: object) -> bytes:
    if is_base64 is not None and not isinstance(is_base64, bool):
        raise MalformedProxyResponse(f"isBase64Encoded must be a boolean, got {is_base64!r}")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string, got {type(body).__name__}")
    if not is_base64:
        return body.encode("utf-8", "replace")
    try:
        return base64.b64decode(body.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as error:
        raise MalformedProxyResponse("body is not valid base64") from error


def _finish_headers(headers: list[tuple[str, str]], request_id: str) -> list[tuple[str, str]]:
    finished: list[tuple[str, str]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _DROPPED or lowered in _GATEWAY_OWNED:
            continue
        finished.append((f"x-amzn-Remapped-{name}" if lowered in _REMAPPED else name, value))
    if not any(name.lower() == "content-type" for name, _ in finished):
        finished.append(("Content-Type", "application/json"))
    finished.append(("x-amzn-RequestId", request_id))
    finished.append(("x-amz-apigw-id", extended_request_id(request_id)))
    return finished


# ---------------------------------------------------------------------------------------------------------
# The gateway's own errors (project error model)
# ---------------------------------------------------------------------------------------------------------


def gateway_error(
    status: int, code: str, message: str, request_id: str, allow: Sequence[str] | None = None
) -> HttpResponse:
    """An error the emulator itself answers (404, 405, 413, 500, 502, 504...) in the project's model."""
    if not 400 <= status <= 599:
        raise ValueError(f"gateway_error needs an error status, got {status}")
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("X-Correlation-Id", request_id),
    ]
    if allow is not None:
        headers.append(("Allow", ", ".join(sorted(allow))))
    for name, value in headers:
        if _FORBIDDEN_VALUE_CHARS.search(value):
            raise ValueError(f"{name} header value contains control characters")
    body = {"error": {"code": code, "message": message, "correlation_id": request_id}}
    return HttpResponse(status=status, headers=headers, body=json.dumps(body).encode("utf-8"))
