"""The OpenAPI document: valid, and describing exactly the routes that are served."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from openapi_spec_validator import validate

from chatshop.shops.openapi import OPERATIONS, openapi_document
from chatshop_local.template import ApiEvent, load_template

REPO_ROOT = Path(__file__).resolve().parents[3]


def shops_app():
    spec = importlib.util.spec_from_file_location(
        "_shops_app_for_openapi", REPO_ROOT / "functions/shops/app.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def test_the_document_is_valid_openapi():
    validate(openapi_document("test"))


def test_the_document_lists_exactly_the_served_routes():
    served = {(path, method) for path, entries in shops_app().routes.items() for method in entries}
    assert set(OPERATIONS) == served


def test_the_document_lists_exactly_the_templates_routes_of_the_shops_function():
    template = load_template(REPO_ROOT / "template.yaml")
    routed = {(e.path, e.method) for e in template.function("ShopsFunction").events_of(ApiEvent)}
    assert set(OPERATIONS) == routed


def test_every_operation_says_how_it_fails_without_a_key():
    document = openapi_document("test")
    for (path, method), operation in OPERATIONS.items():
        responses = document["paths"][path][method.lower()]["responses"]
        assert ("401" in responses) == operation.auth, (path, method)
