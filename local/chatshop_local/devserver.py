"""`chatshop dev` as a child process on free loopback ports, for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .emulator import free_port

READY_LINE = "Press Ctrl-C to stop."


class DevServer:
    def __init__(self, cwd: Path, state_dir: Path, *extra_args: str) -> None:
        self.api_port, self.aws_port, self.graph_port = free_port(), free_port(), free_port()
        self.output: list[str] = []
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
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def wait_ready(self, timeout: float = 120) -> str:
        """The banner printed up to the ready line; raises with the output if it never comes."""
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith(READY_LINE):
                return "".join(self.output)
        self.kill()
        raise RuntimeError("chatshop dev did not become ready:\n" + "".join(self.output))

    def interrupt(self, timeout: float = 60) -> str:
        """Ctrl-C as a terminal sends it (to the whole process group), then everything it printed."""
        os.killpg(self.process.pid, signal.SIGINT)
        rest, _ = self.process.communicate(timeout=timeout)
        return "".join(self.output) + (rest or "")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)
