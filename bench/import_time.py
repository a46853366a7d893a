"""Import time of the core layer's modules, each in a fresh interpreter, as on a Lambda cold start."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stats import summary  # noqa: E402

MODULES = [
    "chatshop",
    "chatshop.platform.errors",
    "chatshop.platform.config",
    "chatshop.platform.observability",
    "chatshop.platform.aws",
    "chatshop.platform.rollout",
    "chatshop.platform.http",
    "chatshop.shops.merchants",
]

_MEASURE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({name!r}); "
    "print((time.perf_counter() - t) * 1000)"
)


def import_ms(module: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(name=module)], capture_output=True, text=True, check=True
    )
    return float(output.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    width = max(len(m) for m in MODULES)
    for module in MODULES:
        samples = [import_ms(module) for _ in range(args.runs)]
        print(f"import {module:<{width}}  {summary(samples)}")


if __name__ == "__main__":
    main()
