"""Time from `chatshop dev` to ready: cold (empty state folder, demo data seeded) and warm (restart)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stats import summary  # noqa: E402
from chatshop_local.emulator import free_port  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def time_to_ready(state_dir: Path) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatshop_local.cli",
            "dev",
            "--port",
            str(free_port()),
            "--aws-port",
            str(free_port()),
            "--graph-port",
            str(free_port()),
            "--state-dir",
            str(state_dir),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Press Ctrl-C to stop."):
            elapsed = time.perf_counter() - started
            break
    else:
        raise SystemExit("chatshop dev exited before it was ready")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            state_dir = Path(folder) / "state"
            cold.append(time_to_ready(state_dir))
            warm.append(time_to_ready(state_dir))
    print(f"chatshop dev to ready, cold (empty state, seeded) {summary(cold, 's')}")
    print(f"chatshop dev to ready, warm (restored state)      {summary(warm, 's')}")


if __name__ == "__main__":
    main()
