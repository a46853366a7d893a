"""One log file per function under ``<state-dir>/logs``, as CloudWatch keeps a log group per function.

Every function runs in this one process, so a log line is routed by the function running in the
context that wrote it (see ``functions.running_function``), or failing that by the powertools
service its logger is named after. Lines are JSON, one per line: the functions' own (already
formatted and redacted by their logger), the runtime's report of each invocation, and what other
libraries log while a function runs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from chatshop.platform.observability import redact_text

from .functions import running_function

LOGS_DIR = "logs"
# Lines nobody's function wrote (demo seeding, a thread a function started): not a valid logical id.
UNROUTED = "chatshop-dev"

Echo = Callable[[str, str], None]  # (logical id, JSON line)


def logs_dir(state_dir: Path) -> Path:
    return state_dir / LOGS_DIR


def log_path(state_dir: Path, logical_id: str) -> Path:
    return logs_dir(state_dir) / f"{logical_id}.log"


class FunctionLogs:
    """Appends JSON lines to each function's file; safe to call from any thread."""

    def __init__(self, state_dir: Path, echo: Echo | None = None) -> None:
        self.state_dir = state_dir
        self._echo = echo
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()

    def write(self, logical_id: str, line: str, echo: bool = True) -> None:
        with self._lock:
            out = self._files.get(logical_id)
            if out is None:
                path = log_path(self.state_dir, logical_id)
                path.parent.mkdir(parents=True, exist_ok=True)
                out = self._files[logical_id] = path.open("a", encoding="utf-8", buffering=1)
            out.write(line.rstrip("\n") + "\n")
        if echo and self._echo is not None:
            self._echo(logical_id, line)

    def report(self, logical_id: str, fields: Mapping[str, Any]) -> None:
        """The runtime's own line about an invocation, as Lambda ends each one with a REPORT line
        (not echoed: the terminal has the invocation's line)."""
        entry = {"level": "INFO", "message": "REPORT", "timestamp": _now(), **fields}
        self.write(logical_id, json.dumps(entry, default=str), echo=False)

    def close(self) -> None:
        with self._lock:
            for out in self._files.values():
                out.close()
            self._files.clear()


class FunctionLogHandler(logging.Handler):
    """The handler each function's powertools Logger gets: its formatted line goes to a file."""

    def __init__(self, logs: FunctionLogs, owner_of_service: Mapping[str, str]) -> None:
        super().__init__()
        self._logs = logs
        self._owners = owner_of_service

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            owner = running_function() or self._owners.get(record.name.split(".")[0], UNROUTED)
            self._logs.write(owner, line)
        except Exception:  # noqa: BLE001 - logging must never break the function
            self.handleError(record)


class LibraryLogRouter(logging.Handler):
    """On the root logger: what a library logs while a function runs goes to that function's file,
    as JSON with the powertools keys; everything else is handed to ``outside`` (the terminal)."""

    def __init__(self, logs: FunctionLogs, services: frozenset[str], outside: logging.Handler) -> None:
        super().__init__()
        self._logs = logs
        self._services = services
        self._outside = outside

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in self._services:
            return  # a function's powertools logger: its own handler wrote the line already
        function = running_function()
        if function is None and record.levelno >= self._outside.level and self._outside.filter(record):
            self._outside.handle(record)
            if not record.exc_info:
                return  # the terminal's line says it all; a traceback is kept in the file below
        try:
            self._logs.write(function or UNROUTED, json.dumps(_as_entry(record), default=str))
        except Exception:  # noqa: BLE001 - logging must never break the function
            self.handleError(record)


def _as_entry(record: logging.LogRecord) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "level": record.levelname,
        "location": f"{record.funcName}:{record.lineno}",
        "message": redact_text(record.getMessage()),
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "logger": record.name,
    }
    if record.exc_info:
        entry["exception"] = redact_text(logging.Formatter().formatException(record.exc_info))
    return entry


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# --- reading ---------------------------------------------------------------------------------------


def read_lines(
    path: Path, follow: bool, poll_s: float = 0.25, stop: Callable[[], bool] = lambda: False
) -> Iterator[str]:
    """The file's lines; with ``follow``, then every line appended to it, as ``tail -f`` does
    (waiting for the file if it does not exist yet, and reading it anew if it is truncated)."""
    position = 0
    pending = ""
    while True:
        if path.is_file():
            size = path.stat().st_size
            if size < position:
                position, pending = 0, ""  # truncated or replaced: read it from the top
            if size > position:
                with path.open("r", encoding="utf-8", errors="replace") as source:
                    source.seek(position)
                    pending += source.read()
                    position = source.tell()
                *complete, pending = pending.split("\n")
                yield from complete
        if not follow or stop():
            if pending and not follow:
                yield pending
            return
        time.sleep(poll_s)


def pretty(line: str) -> str:
    """A JSON log line as a person reads it: time, level, message, then the other keys."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    moment = str(entry.pop("timestamp", ""))
    clock = moment[11:23] if len(moment) >= 23 else moment
    level = str(entry.pop("level", ""))
    message = entry.pop("message", "")
    exception = entry.pop("exception", None)
    for noise in (
        "location",
        "sampling_rate",
        "service",
        "cold_start",
        "function_memory_size",
        "function_arn",
        "function_name",
        "xray_trace_id",
        "stack_trace",
    ):
        entry.pop(noise, None)
    rest = " ".join(f"{key}={_compact(value)}" for key, value in entry.items())
    text = f"{clock} {level:<7} {message if isinstance(message, str) else _compact(message)}"
    text += f"  {rest}" if rest else ""
    return text + (f"\n{exception}" if exception else "")


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), default=str)
