"""A background loop that runs one step at a time until stopped, and survives a failing step."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("chatshop.local")


class BackgroundLoop:
    name = "loop"

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()

    def join(self, timeout: float = 10) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True when the loop is being stopped."""
        return self._stopping.wait(seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001 - one bad step must not end the loop
                log.exception("%s failed; retrying in 1s", self.name)
                self.wait(1)
