"""The local API Gateway: an HTTP server on loopback that turns requests into proxy events.

Routes come from the template's ``Api`` events; each request becomes an API Gateway REST proxy event
for the function that owns the route, and the function's result becomes the HTTP response, with
API Gateway's limits and error behaviour (see ``apigw``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
from .template import ApiEvent, FunctionSpec

log = logging.getLogger("chatshop.local.gateway")

_MAX_DISCARD_BYTES = 64 * 1024 * 1024
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
            self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        except OSError as exc:
            raise GatewayError(f"the local gateway cannot listen on {host}:{port}: {exc.strerror}") from exc
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

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


def _handler_class(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "chatshop-local-gateway"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            started = time.perf_counter()
            response = self._respond_to_request()
            self._write(response)
            log.info(
                "%s %s -> %d (%.1f ms)",
                self.command,
                self.path,
                response.status,
                (time.perf_counter() - started) * 1000,
            )

        def _respond_to_request(self) -> HttpResponse:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BODY_BYTES:
                self._discard_body(length)
                return gateway_error(
                    413,
                    "payload_too_large",
                    f"request body of {length} bytes is over the {MAX_REQUEST_BODY_BYTES} byte limit",
                    str(uuid.uuid4()),
                )
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = HttpRequest(
                method=self.command,
                path=path,
                query_string=query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            return gateway.handle(request)

        def _discard_body(self, length: int) -> None:
            # Reading what the client sends lets it see the 413 instead of a broken pipe; past a
            # bound, the connection is closed instead, so nobody can make the gateway read forever.
            if length > _MAX_DISCARD_BYTES:
                self.close_connection = True
                return
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 20))
                if not chunk:
                    break
                length -= len(chunk)
            self.close_connection = True

        def _write(self, response: HttpResponse) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
            pass  # requests are logged once, with their status and latency, by _serve

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    return Handler


def routes_from(functions: Iterable[FunctionSpec]) -> RouteTable:
    """All ``Api`` events of the template's functions, as one route table."""
    return RouteTable(
        Route(resource=event.path, method=event.method, target=spec.logical_id)
        for spec in functions
        for event in spec.events_of(ApiEvent)
    )
