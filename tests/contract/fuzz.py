"""The contract fuzzer: schemathesis against a fresh ``chatshop dev``, every route of the document.

``python -m tests.contract.fuzz [--max-examples N] [--seed S]`` (``make fuzz``) starts the stack on
free loopback ports, runs ``st run`` with every check and every phase (stateful included) on the
served ``/openapi.json``, prints what it found and exits with its status. The e2e test runs the
same, smaller.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

from chatshop_local.devserver import DevServer

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
APP_SECRET = "contract-fuzz-app-secret"
PHASES = "examples,coverage,fuzzing,stateful"
# The search function loads its models on its first search; that request may take a while.
REQUEST_TIMEOUT_S = 60


@dataclass(frozen=True)
class FuzzRun:
    returncode: int
    output: str
    seconds: float


def wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def tiny_png() -> bytes:
    """An 8x8 grey PNG, made here so that warming up needs no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def warm_up(api_url: str) -> None:
    """The search function loads its models on its first searches (some seconds each); done before
    the fuzzer starts, so that its response-time check measures requests, not model loading."""
    wait_for(f"{api_url}/search/health", timeout=120)
    with urllib.request.urlopen(f"{api_url}/search?country=US&q=warm", timeout=120) as response:
        response.read()
    request = urllib.request.Request(
        f"{api_url}/search/image?country=US", data=tiny_png(), headers={"Content-Type": "image/png"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def run_fuzzer(api_url: str, work_dir: Path, max_examples: int, seed: int) -> FuzzRun:
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file", str(CONFIG),
        "run", f"{api_url}/openapi.json",
        "--checks", "all",
        "--phases", PHASES,
        "--seed", str(seed),
        "--max-examples", str(max_examples),
        "--workers", "1",
        "--request-timeout", str(REQUEST_TIMEOUT_S),
        "--no-color",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.fuzz_hooks",
        "CHATSHOP_FUZZ_API_URL": api_url,
        "CHATSHOP_WHATSAPP_APP_SECRET": APP_SECRET,
        "PYTHONPATH": str(REPO_ROOT),
    }
    started = time.monotonic()
    # cwd: schemathesis keeps its cache folder in the working directory.
    done = subprocess.run(command, cwd=work_dir, env=env, capture_output=True, text=True, check=False)
    return FuzzRun(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def fuzz_dev_stack(state_dir: Path, max_examples: int, seed: int) -> FuzzRun:
    """A fresh ``chatshop dev`` (no demo data: the fuzzer signs up its own merchant), fuzzed."""
    server = DevServer(
        REPO_ROOT, state_dir, "--no-seed", env={"CHATSHOP_WHATSAPP_APP_SECRET": APP_SECRET}
    )  # the stack's app secret, which the hooks sign with
    try:
        server.wait_ready()
        warm_up(server.api_url)
        return run_fuzzer(server.api_url, state_dir, max_examples, seed)
    finally:
        server.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatshop-fuzz-") as folder:
        run = fuzz_dev_stack(Path(folder), args.max_examples, args.seed)
    print(run.output)
    print(f"contract fuzz: exit {run.returncode} in {run.seconds:.0f}s (seed {args.seed})")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
