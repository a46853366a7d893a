"""The local API Gateway: an HTTP server on loopback that turns requests into proxy events.

Routes come from the template's ``Api`` events; each request becomes an API Gateway REST proxy event
for the function that owns the route, and the function's result becomes the HTTP response, with
API Gateway's limits and error behaviour (see ``apigw``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from .apigw import (
    MAX_REQUEST_BODY_BYTES,
    GatewayContext,
    HttpRequest,
    HttpResponse,
    MethodNotAllowed,
    NoRoute,
    Route,
    RouteTable,
    build_proxy_event,
    gateway_error,
    proxy_result_to_http,
)
from .functions import InvocationResult
from .loopback_http import LoopbackHttpServer, LoopbackServerError, RawRequest, RawResponse
from .template import ApiEvent, FunctionSpec

log = logging.getLogger("chatshop.local.gateway")

INTEGRATION_TIMEOUT_MS = 29_000

Invoke = Callable[[str, dict], InvocationResult]


class GatewayError(RuntimeError):
    pass


class LocalGateway:
    def __init__(
        self, routes: RouteTable, invoke: Invoke, context: GatewayContext, host: str, port: int
    ) -> None:
        self.routes = routes
        self.invoke = invoke
        self.context = context
        try:
            self._server = LoopbackHttpServer(
                "local gateway", host, port, self._respond, _too_large, MAX_REQUEST_BODY_BYTES, log
            )
        except LoopbackServerError as exc:
            raise GatewayError(str(exc)) from exc

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def _respond(self, raw: RawRequest) -> RawResponse:
        request = HttpRequest(
            method=raw.method,
            path=raw.path,
            query_string=raw.query,
            headers=raw.headers,
            body=raw.body,
            source_ip=raw.client_ip,
        )
        response = self.handle(request)
        return RawResponse(response.status, response.headers, response.body)

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        try:
            match = self.routes.match(request.method, request.path)
        except NoRoute:
            return gateway_error(
                404, "not_found", f"no route for {request.method} {request.path}", request_id
            )
        except MethodNotAllowed as exc:
            return gateway_error(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.path}",
                request_id,
                allow=exc.allowed,
            )
        event = build_proxy_event(request, match, self.context, request_id, datetime.now(UTC))
        result = self.invoke(match.route.target, event)
        if _timed_out(result):
            return gateway_error(504, "endpoint_timeout", "the function did not answer in time", request_id)
        if not result.ok:
            # Lambda reported an unhandled error: the traceback stays in the log, the client gets an id.
            return gateway_error(
                500, "internal_error", "the function failed; quote the correlation id", request_id
            )
        return proxy_result_to_http(result.payload, request_id)


def _timed_out(result: InvocationResult) -> bool:
    # API Gateway gives up on an integration after 29 s, whatever the function's own timeout.
    timed_out = result.error is not None and result.error.get("errorType") == "Sandbox.Timedout"
    return timed_out or result.duration_ms > INTEGRATION_TIMEOUT_MS


def _too_large(length: int) -> RawResponse:
    response = gateway_error(
        413,
        "payload_too_large",
        f"request body of {length} bytes is over the {MAX_REQUEST_BODY_BYTES} byte limit",
        str(uuid.uuid4()),
    )
    return RawResponse(response.status, response.headers, response.body)


def routes_from(functions: Iterable[FunctionSpec]) -> RouteTable:
    """All ``Api`` events of the template's functions, as one route table."""
    return RouteTable(
        Route(resource=event.path, method=event.method, target=spec.logical_id)
        for spec in functions
        for event in spec.events_of(ApiEvent)
    )
