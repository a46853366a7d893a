"""`chatshop dev`'s terminal: one short line per request and per invocation, and a status line.

Colour only where the stream is a terminal and ``NO_COLOR`` is unset (https://no-color.org). On a
terminal the status line (indexing progress) stays on the last line and the other lines scroll above
it; elsewhere (a pipe, a file) each status change is a line of its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import IO

from .invocations import Invocation

_RESET = "\x1b[0m"
_CLEAR_LINE = "\r\x1b[2K"
DIM, BOLD, RED, GREEN, YELLOW, CYAN = "2", "1", "31", "32", "33", "36"


def wants_colour(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Console:
    def __init__(self, stream: IO[str], colour: bool | None = None) -> None:
        self._stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self.colour = wants_colour(stream) if colour is None else colour
        self._status: str | None = None
        self._gone = False
        self._lock = threading.Lock()
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._lambda = "λ" if encoding == "utf8" else "fn"

    def paint(self, text: str, *codes: str) -> str:
        if not self.colour or not codes:
            return text
        return f"\x1b[{';'.join(codes)}m{text}{_RESET}"

    def line(self, text: str) -> None:
        """Print a line above the status line."""
        with self._lock:
            if self._tty and self._status is not None:
                self._write(f"{_CLEAR_LINE}{text}\n{self._status}")
            else:
                self._write(text + "\n")

    def status(self, text: str | None) -> None:
        """Show ``text`` on the status line (None: clear it)."""
        with self._lock:
            if self._tty:
                self._write(_CLEAR_LINE + (text or ""))
            elif text is not None and text != self._status:
                self._write(text + "\n")
            self._status = text

    def _write(self, text: str) -> None:
        if self._gone:
            return
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # The terminal went away (a closed pipe): the stack runs on and still saves on stop.
            self._gone = True

    # --- the lines -------------------------------------------------------------------------------

    def request(self, method: str, path: str, status: int, ms: float) -> None:
        colour = GREEN if status < 400 else YELLOW if status < 500 else RED
        self.line(
            f"{self._clock()} {self.paint(f'{method:<7}', BOLD)} {path}  "
            f"{self.paint(str(status), colour)}  {_ms(ms)}"
        )

    def invocation(self, invocation: Invocation) -> None:
        colour = GREEN if invocation.ok else YELLOW if invocation.outcome.endswith("failed") else RED
        self.line(
            f"{self._clock()} {self.paint(self._lambda, CYAN)} {self.paint(invocation.function, BOLD)} "
            f"{self.paint('<- ' + invocation.trigger, DIM)}  "
            f"{self.paint(invocation.outcome, colour)}  {_ms(invocation.duration_ms)}"
        )

    def record(self, record: logging.LogRecord) -> None:
        colour = (
            RED if record.levelno >= logging.ERROR else YELLOW if record.levelno >= logging.WARNING else ""
        )
        level = self.paint(record.levelname.lower(), colour) if colour else record.levelname.lower()
        self.line(f"{self._clock(record.created)} {level} {record.name}: {record.getMessage()}")

    def function_log(self, logical_id: str, line: str) -> None:
        self.line(self.paint(f"{logical_id}: {line.rstrip()}", DIM))

    def _clock(self, moment: float | None = None) -> str:
        return self.paint(time.strftime("%H:%M:%S", time.localtime(moment)), DIM)


def _ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


class ConsoleLogHandler(logging.Handler):
    """Log records as console lines: a request the local gateway logged becomes a request line."""

    def __init__(self, console: Console, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            request = getattr(record, "http", None)
            if isinstance(request, dict):
                self._console.request(request["method"], request["path"], request["status"], request["ms"])
            else:
                self._console.record(record)
        except Exception:  # noqa: BLE001 - logging must never break the caller
            self.handleError(record)
