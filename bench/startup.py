"""Time from `chatshop dev` to ready: cold (empty state folder, demo data seeded) and warm (restart)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stats import summary  # noqa: E402

from chatshop_local.devserver import DevServer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def time_to_ready(state_dir: Path) -> float:
    started = time.perf_counter()
    server = DevServer(REPO_ROOT, state_dir)
    server.wait_ready()
    elapsed = time.perf_counter() - started
    server.interrupt()
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
