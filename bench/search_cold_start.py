"""Cold start of the search function: imports, model loads and a first query, in a fresh interpreter.

Each run is a new Python process, as a new Lambda container is, timing in order what the search
function pays before its first answer: importing the search package, torch and
sentence-transformers, loading the text and image models, and a first text and image query.
The model cache is warmed once beforehand, so the figures are a container's and not the one-off
build of the tiny CLIP (printed separately). Models come from the environment's configuration
(CHATSHOP_IMAGE_MODEL, CHATSHOP_TEXT_MODEL, CHATSHOP_MODEL_CACHE_DIR).

    .venv/bin/python bench/search_cold_start.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stats import percentile  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent

# Runs in the fresh interpreter; prints one JSON object of stage -> milliseconds, in order.
_PROGRAM = r"""
import importlib, json, pkgutil, time
stages = {}
mark = time.perf_counter()
def stage(name):
    global mark
    now = time.perf_counter()
    stages[name] = (now - mark) * 1000
    mark = now

import chatshop.search as package
for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
    importlib.import_module(f"chatshop.search.{module}")
stage("import chatshop.search.*")
import torch
stage("import torch")
import sentence_transformers
stage("import sentence_transformers")

from PIL import Image
from chatshop.platform.config import load_settings
from chatshop.search.embedder import SentenceTransformersEmbedder
embedder = SentenceTransformersEmbedder(load_settings())
embedder.model_info("text")
stage("load text model")
embedder.model_info("image")
stage("load image model")
embedder.embed_texts(["red running shoes"])
stage("first text query (MiniLM)")
embedder.embed_texts_for_images(["red running shoes"])
stage("first text query (CLIP text)")
embedder.embed_images([Image.new("RGB", (640, 480), (200, 30, 30))])
stage("first image query")
print(json.dumps(stages))
"""

_WARM_CACHE = (
    "import json, time; t = time.perf_counter();"
    "from chatshop.platform.config import load_settings; from chatshop.search import models;"
    "s = load_settings(); [models.resolve_model_path(k, s) for k in ('text', 'image')];"
    "print(json.dumps((time.perf_counter() - t) * 1000))"
)


def run(program: str) -> object:
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    output = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=environ,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def line(name: str, samples: list[float], width: int) -> str:
    return f"{name:<{width}}  p50 {percentile(samples, 0.5):8.1f} ms   max {max(samples):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    print(f"model cache ready (a build or download happens once per cache): {run(_WARM_CACHE):.0f} ms")
    runs = [run(_PROGRAM) for _ in range(args.runs)]
    width = max(len(name) for name in runs[0])
    for name in runs[0]:
        print(line(name, [r[name] for r in runs], width))
    print(line("total to first answers", [sum(r.values()) for r in runs], width))
    print(f"runs: {args.runs}, each in a fresh interpreter")


if __name__ == "__main__":
    main()
