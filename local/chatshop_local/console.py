"""`chatshop dev`'s terminal: one short line per request and per invocation, and a status line.

Colour only where the stream is a terminal and ``NO_COLOR`` is unset (https://no-color.org). On a
terminal the status line (indexing progress) stays on the last line and the other lines scroll above
it, and a pinned block (the banner's essentials) can stay on the top rows, the lines scrolling
between the two (a scrolling region, which every VT100-like terminal has); elsewhere (a pipe, a file)
each status change is a line of its own and a pinned block is printed once.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import time
from typing import IO

from .invocations import Invocation
from .logfiles import UNROUTED

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
        self._pinned: list[str] = []
        # Re-entrant: a resize redraws from a signal handler, which may interrupt a write.
        self._lock = threading.RLock()
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._lambda = "λ" if encoding == "utf8" else "fn"

    @property
    def is_terminal(self) -> bool:
        return self._tty

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

    def pin(self, lines: list[str]) -> None:
        """Keep ``lines`` on the top rows of a terminal; elsewhere, print them."""
        with self._lock:
            columns, rows = shutil.get_terminal_size()
            if not self._tty or _height(lines, columns) + 6 > rows:
                self.line("\n".join(lines))
                return
            self._pinned = list(lines)
            self._draw_pinned(columns, rows)

    def repin(self) -> None:
        """Draw the pinned block again, for the terminal's new size."""
        with self._lock:
            if self._pinned:
                self.pin(self._pinned)

    def unpin(self) -> None:
        """Give the terminal back its whole height, the cursor on the last row."""
        with self._lock:
            if self._pinned:
                self._pinned = []
                self._write(f"\x1b[r\x1b[{shutil.get_terminal_size().lines};1H\n")

    def _draw_pinned(self, columns: int, rows: int) -> None:
        top = _height(self._pinned, columns)
        # Scroll what the screen shows into the scrollback, rather than erase it (the full banner
        # stays there), then write the block on top and let the rest scroll below it.
        text = f"\x1b[r\x1b[{rows};1H{_CLEAR_LINE}" + "\n" * rows + "\x1b[H"
        text += "\n".join(self._pinned)
        text += f"\x1b[{top + 1};{rows}r\x1b[{rows};1H{self._status or ''}"
        self._write(text)

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
        where = f" (traceback in logs/{UNROUTED}.log)" if record.exc_info else ""
        self.line(f"{self._clock(record.created)} {level} {record.name}: {record.getMessage()}{where}")

    def function_log(self, logical_id: str, line: str) -> None:
        self.line(self.paint(f"{logical_id}: {line.rstrip()}", DIM))

    def _clock(self, moment: float | None = None) -> str:
        return self.paint(time.strftime("%H:%M:%S", time.localtime(moment)), DIM)


def _height(lines: list[str], columns: int) -> int:
    """Rows the lines take on a terminal this wide, long ones wrapping."""
    return sum(max(1, math.ceil(len(line) / max(1, columns))) for line in "\n".join(lines).split("\n"))


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
