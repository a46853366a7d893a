"""Fixtures shared by the platform unit tests: a clean, known environment per test."""

from __future__ import annotations

import uuid

import pytest

from chatshop.platform import aws

# Variables the platform reads; a developer's shell must not leak into the tests.
_PLATFORM_VARS = (
    "CHATSHOP_STAGE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_PROFILE",
    "CHATSHOP_SHOPS_TABLE",
    "CHATSHOP_IDEMPOTENCY_TABLE",
    "CHATSHOP_MEDIA_BUCKET",
    "CHATSHOP_ROLLOUT_FILE",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LAMBDA_TASK_ROOT",
    "AWS_SAM_LOCAL",
    "AWS_CHALICE_CLI_MODE",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    for name in list(os.environ):
        if name in _PLATFORM_VARS or name.startswith("AWS_ENDPOINT_URL_"):
            monkeypatch.delenv(name, raising=False)
    # No shared AWS config or credentials from the machine; dummy keys so clients can sign locally.
    missing = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(missing))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(missing))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    # A fresh service name per test: loggers are cached per service and bind the stdout they were
    # created with, which pytest's capsys swaps per test.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", f"test-{uuid.uuid4().hex[:12]}")
    aws.clear_clients()
