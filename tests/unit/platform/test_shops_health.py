"""The shops function's /health route, through Chalice's test client."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from chalice.test import Client

import chatshop
from chatshop.platform.http import CORRELATION_HEADER

APP_FILE = Path(__file__).resolve().parents[3] / "functions" / "shops" / "app.py"


def _import_shops_app() -> ModuleType:
    # By path, as Lambda does with the function's own folder; kept out of sys.modules so each test
    # imports it afresh under its own environment.
    spec = importlib.util.spec_from_file_location("shops_app_under_test", APP_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_health_reports_status_region_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the function deployed in eu-west-1
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    shops = _import_shops_app()

    # When
    with Client(shops.app) as client:
        response = client.http.get("/health")

    # Then
    assert response.status_code == 200
    assert json.loads(response.body) == {
        "status": "ok",
        "region": "eu-west-1",
        "version": chatshop.__version__,
    }
    assert response.headers[CORRELATION_HEADER]


def test_health_answers_other_methods_with_the_error_model() -> None:
    with Client(_import_shops_app().app) as client:
        response = client.http.post("/health", body=b"{}", headers={"Content-Type": "application/json"})

    assert response.status_code == 405
    assert json.loads(response.body)["error"]["code"] == "method_not_allowed"
