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

# A whole function's cold import: its handler file with everything it pulls in.
FUNCTION_FILES = {"functions/shops/app.py (ShopsFunction)": Path("functions/shops/app.py")}
REPO_ROOT = Path(__file__).resolve().parent.parent

_MEASURE_MODULE = (
    "import time, importlib; t = time.perf_counter(); importlib.import_module({target!r}); "
    "print((time.perf_counter() - t) * 1000)"
)
_MEASURE_FILE = (
    "import time, runpy; t = time.perf_counter(); runpy.run_path({target!r}); "
    "print((time.perf_counter() - t) * 1000)"
)


def import_ms(program: str, target: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", program.format(target=target)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return float(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    width = max(len(name) for name in [*MODULES, *FUNCTION_FILES])
    for module in MODULES:
        samples = [import_ms(_MEASURE_MODULE, module) for _ in range(args.runs)]
        print(f"import {module:<{width}}  {summary(samples)}")
    for label, path in FUNCTION_FILES.items():
        samples = [import_ms(_MEASURE_FILE, str(REPO_ROOT / path)) for _ in range(args.runs)]
        print(f"import {label:<{width}}  {summary(samples)}")


if __name__ == "__main__":
    main()
