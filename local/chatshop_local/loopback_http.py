"""A small threaded HTTP/1.1 server on loopback, shared by the local gateway and the Graph API emulator.

It reads one request at a time per connection (keep-alive), hands it over as plain data, and writes
the answer with its length. A body over the server's limit is answered without being processed.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Past this, a too-large body is not even read: the connection is closed after the answer.
_MAX_DISCARD_BYTES = 64 * 1024 * 1024
_POLL_INTERVAL_S = 0.05


class LoopbackServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: str  # path and query, as received
    headers: list[tuple[str, str]]
    body: bytes
    client_ip: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


Respond = Callable[[RawRequest], RawResponse]
TooLarge = Callable[[int], RawResponse]


class LoopbackHttpServer:
    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        respond: Respond,
        too_large: TooLarge,
        max_body_bytes: int,
        log: logging.Logger,
        log_level: int = logging.INFO,
    ) -> None:
        self.name = name
        handler = _handler_class(name, respond, too_large, max_body_bytes, log, log_level)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise LoopbackServerError(f"the {name} cannot listen on {host}:{port}: {exc.strerror}") from exc
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(_POLL_INTERVAL_S,), name=self.name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _handler_class(
    name: str, respond: Respond, too_large: TooLarge, max_body_bytes: int, log: logging.Logger, log_level: int
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"chatshop-{name.replace(' ', '-')}"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in separate writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive response.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self) -> None:
            started = time.perf_counter()
            response = self._answer()
            self._write(response)
            # The path only: a query may hold a token. The fields ride along for the dev terminal.
            path, ms = self.path.partition("?")[0], (time.perf_counter() - started) * 1000
            log.log(
                log_level,
                "%s %s -> %d (%.1f ms)",
                self.command,
                path,
                response.status,
                ms,
                extra={"http": {"method": self.command, "path": path, "status": response.status, "ms": ms}},
            )

        def _answer(self) -> RawResponse:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = 0
            if length > max_body_bytes:
                self._discard_body(length)
                return too_large(length)
            body = self.rfile.read(length) if length > 0 else b""
            request = RawRequest(
                self.command, self.path, list(self.headers.items()), body, self.client_address[0]
            )
            return respond(request)

        def _discard_body(self, length: int) -> None:
            # Reading what the client sends lets it see the answer instead of a broken pipe; past a
            # bound, the connection is closed instead, so nobody can make the server read forever.
            self.close_connection = True
            if length > _MAX_DISCARD_BYTES:
                return
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 20))
                if not chunk:
                    break
                length -= len(chunk)

        def _write(self, response: RawResponse) -> None:
            self.send_response(response.status)
            for header, value in response.headers:
                if header.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(header, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
            pass  # requests are logged once, with status and latency, by _serve

        def __getattr__(self, name: str) -> Callable[[], None]:
            # http.server dispatches to do_<METHOD> and answers its own HTML 501 when there is none;
            # every method (TRACE, PROPFIND, made-up ones) goes to the responder instead, which
            # knows what the route allows.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    return Handler
