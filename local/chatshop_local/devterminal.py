"""Wires `chatshop dev`'s logging: the functions' JSON logs to their files, short lines to the terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path

from chatshop.platform import observability

from .console import Console, ConsoleLogHandler
from .invocations import API, Invocation
from .logfiles import FunctionLogHandler, FunctionLogs, LibraryLogRouter


class _RuntimeLines(logging.Filter):
    """The terminal shows the local runtime's own lines, and only the warnings of other libraries."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("chatshop.local") or record.levelno >= logging.WARNING


class DevTerminal:
    def __init__(self, state_dir: Path, verbose: bool, services: Mapping[str, str]) -> None:
        self.console = Console(sys.stdout)
        self.verbose = verbose
        self.logs = FunctionLogs(state_dir, echo=self.console.function_log if verbose else None)
        self._services = dict(services)  # powertools service name -> the function's logical id
        self._root_handler: logging.Handler | None = None

    def install(self) -> None:
        """Call before any function is imported: its logger is made with the handler installed here."""
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        outside = ConsoleLogHandler(self.console)
        outside.addFilter(_RuntimeLines())
        self._root_handler = LibraryLogRouter(self.logs, frozenset(self._services), outside)
        root.addHandler(self._root_handler)
        root.setLevel(logging.INFO)
        observability.route_logs(lambda: FunctionLogHandler(self.logs, self._services))

    def invocation(self, invocation: Invocation) -> None:
        self.logs.report(
            invocation.function,
            {
                "request_id": invocation.request_id,
                "trigger": invocation.trigger,
                "outcome": invocation.outcome,
                "duration_ms": round(invocation.duration_ms, 1),
                **({"records": invocation.records} if invocation.records is not None else {}),
            },
        )
        # A request through the gateway has its own line already; its invocation's is news only
        # when the function failed.
        if invocation.trigger != API or not invocation.ok or self.verbose:
            self.console.invocation(invocation)

    def close(self) -> None:
        self.console.unpin()
        observability.route_logs(None)
        if self._root_handler is not None:
            logging.getLogger().removeHandler(self._root_handler)
        self.logs.close()
