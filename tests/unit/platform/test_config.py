"""Settings: one typed object, read from the environment at call time."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import chatshop
from chatshop.platform.config import ConfigurationError, Settings, env_names, load_settings
from chatshop.platform.errors import ChatshopError


def test_defaults_when_nothing_is_set() -> None:
    settings = load_settings({})

    assert settings.stage == "dev"
    assert settings.region == "us-east-1"
    assert settings.service == "chatshop"
    assert settings.version == chatshop.__version__
    assert settings.endpoint_url is None
    assert settings.shops_table is None
    assert settings.idempotency_table is None
    assert settings.media_bucket is None
    assert settings.rollout_file is None


def test_every_field_is_read_from_its_variable() -> None:
    settings = load_settings(
        {
            "CHATSHOP_STAGE": "prod",
            "AWS_REGION": "eu-west-1",
            "POWERTOOLS_SERVICE_NAME": "shops",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            "CHATSHOP_SHOPS_TABLE": "shops-table",
            "CHATSHOP_IDEMPOTENCY_TABLE": "idem-table",
            "CHATSHOP_MEDIA_BUCKET": "media-bucket",
            "CHATSHOP_ROLLOUT_FILE": "/etc/chatshop/rollout.yaml",
        }
    )

    assert settings.stage == "prod"
    assert settings.region == "eu-west-1"
    assert settings.service == "shops"
    assert settings.endpoint_url == "http://127.0.0.1:5000"
    assert settings.shops_table == "shops-table"
    assert settings.idempotency_table == "idem-table"
    assert settings.media_bucket == "media-bucket"
    assert settings.rollout_file == Path("/etc/chatshop/rollout.yaml")


def test_region_prefers_aws_region_then_aws_default_region() -> None:
    both = {"AWS_REGION": "sa-east-1", "AWS_DEFAULT_REGION": "ap-south-1"}
    assert load_settings(both).region == "sa-east-1"
    assert load_settings({"AWS_DEFAULT_REGION": "ap-south-1"}).region == "ap-south-1"


def test_an_empty_variable_counts_as_unset() -> None:
    settings = load_settings(
        {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1", "CHATSHOP_SHOPS_TABLE": " "}
    )

    assert settings.region == "eu-west-1"
    assert settings.shops_table is None


@pytest.mark.parametrize("region", ["us-gov-west-1", "eu-central-2", "ap-southeast-5", "il-central-1"])
def test_real_region_names_are_accepted(region: str) -> None:
    assert load_settings({"AWS_REGION": region}).region == region


@pytest.mark.parametrize("region", ["US-EAST-1", "us-east", "useast1", "us_east_1", "eu-west-1a"])
def test_a_malformed_region_is_a_configuration_error_naming_the_variable(region: str) -> None:
    with pytest.raises(ConfigurationError, match="AWS_REGION"):
        load_settings({"AWS_REGION": region})


def test_load_settings_reads_os_environ_when_called(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two "functions" with different environments in one process
    monkeypatch.setenv("CHATSHOP_STAGE", "local")
    first = load_settings()
    monkeypatch.setenv("CHATSHOP_STAGE", "prod")

    # When settings are loaded again
    second = load_settings()

    # Then each sees the environment of its own call
    assert (first.stage, second.stage) == ("local", "prod")


def test_require_returns_a_resource_the_function_was_given() -> None:
    assert load_settings({"CHATSHOP_SHOPS_TABLE": "shops"}).require("shops_table") == "shops"


@pytest.mark.parametrize(
    ("field", "variable"),
    [
        ("shops_table", "CHATSHOP_SHOPS_TABLE"),
        ("idempotency_table", "CHATSHOP_IDEMPOTENCY_TABLE"),
        ("media_bucket", "CHATSHOP_MEDIA_BUCKET"),
    ],
)
def test_require_names_the_missing_variable(field: str, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        load_settings({}).require(field)


def test_require_of_an_unknown_setting_is_a_programming_error() -> None:
    with pytest.raises(AttributeError):
        load_settings({}).require("no_such_setting")


def test_configuration_errors_are_not_client_errors() -> None:
    assert not issubclass(ConfigurationError, ChatshopError)


def test_settings_are_frozen_and_hashable() -> None:
    settings = load_settings({})

    with pytest.raises(ValidationError):
        settings.stage = "prod"  # type: ignore[misc]
    assert hash(settings) == hash(load_settings({}))


def test_settings_can_be_built_directly_for_tests_and_tools() -> None:
    assert Settings(region="eu-west-1", media_bucket="b").media_bucket == "b"


def test_every_setting_but_version_names_its_environment_variable() -> None:
    # A new field without Env(...) would silently never be configured.
    missing = [name for name in Settings.model_fields if name != "version" and not env_names(name)]
    assert missing == []
