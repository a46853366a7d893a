"""`chatshop dev` as a child process on free loopback ports, for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .banner import READY_LINE
from .emulator import free_port

__all__ = ["READY_LINE", "DevServer"]


class DevServer:
    def __init__(
        self, cwd: Path, state_dir: Path, *extra_args: str, env: Mapping[str, str] | None = None
    ) -> None:
        """``env``: variables the child gets on top of this process's environment."""
        self.api_port, self.aws_port, self.graph_port = free_port(), free_port(), free_port()
        self.output: list[str] = []
        self._lines = threading.Condition()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatshop_local.cli",
                "dev",
                "--port",
                str(self.api_port),
                "--aws-port",
                str(self.aws_port),
                "--graph-port",
                str(self.graph_port),
                "--state-dir",
                str(state_dir),
                *extra_args,
            ],  # fmt: skip
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )

        # Read all along: a pipe nobody reads fills up, and then chatshop dev blocks on its next line.
        self._reader = threading.Thread(target=self._read, name="chatshop dev output", daemon=True)
        self._reader.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def text(self) -> str:
        """Everything printed so far."""
        with self._lines:
            return "".join(self.output)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lines:
                self.output.append(line)
                self._lines.notify_all()
        with self._lines:
            self._lines.notify_all()

    def wait_for_line(self, condition: Callable[[str], bool], timeout: float) -> str | None:
        """The first line printed (from the start) for which ``condition`` holds, if one comes in time."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self._lines:
            while True:
                for line in self.output[seen:]:
                    if condition(line):
                        return line
                seen = len(self.output)
                left = deadline - time.monotonic()
                if left <= 0 or (not self._reader.is_alive() and seen == len(self.output)):
                    return None
                self._lines.wait(min(left, 0.5))

    def wait_ready(self, timeout: float = 120) -> str:
        """The banner printed up to the ready line; raises with the output if it never comes."""
        if self.wait_for_line(lambda line: line.startswith(READY_LINE), timeout) is None:
            self.kill()
            raise RuntimeError("chatshop dev did not become ready:\n" + self.text)
        with self._lines:
            end = next(i for i, line in enumerate(self.output) if line.startswith(READY_LINE))
            return "".join(self.output[: end + 1])

    def interrupt(self, timeout: float = 60) -> str:
        """Ctrl-C as a terminal sends it (to the whole process group), then everything it printed."""
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=timeout)
        self._reader.join(10)
        return self.text

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer ends it: nothing is saved on the way out."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._reader.join(10)
