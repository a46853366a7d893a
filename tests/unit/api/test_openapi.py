"""The OpenAPI document: valid, and describing exactly the routes that are served, by every function."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from chatshop.api.openapi import OPERATIONS, openapi_document
from chatshop_local.template import ApiEvent, load_template

REPO_ROOT = Path(__file__).resolve().parents[3]


def http_functions() -> dict[str, set[tuple[str, str]]]:
    """Each function of the template with Api events, and the (path, method) pairs they route."""
    template = load_template(REPO_ROOT / "template.yaml")
    routed: dict[str, set[tuple[str, str]]] = {}
    for spec in template.functions():
        events = spec.events_of(ApiEvent)
        if events:
            routed[spec.logical_id] = {(event.path, event.method) for event in events}
    return routed


def chalice_routes(logical_id: str) -> set[tuple[str, str]]:
    """The routes of a function's Chalice app, loaded from its code folder as Lambda would."""
    spec = load_template(REPO_ROOT / "template.yaml").function(logical_id)
    module_name, _, attribute = spec.handler.rpartition(".")
    app_file = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    module_spec = importlib.util.spec_from_file_location(f"_openapi_{logical_id}", app_file)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    app = getattr(module, attribute)
    return {(path, method) for path, entries in app.routes.items() for method in entries}


def test_the_document_is_valid_openapi():
    validate(openapi_document("test"))


def test_the_document_lists_exactly_the_templates_routes_of_every_http_function():
    routed = set().union(*http_functions().values())
    assert set(OPERATIONS) == routed


@pytest.mark.parametrize("logical_id", sorted(http_functions()))
def test_each_function_serves_exactly_its_templates_routes(logical_id):
    assert chalice_routes(logical_id) == http_functions()[logical_id]


def test_every_operation_says_how_it_fails_without_credentials():
    document = openapi_document("test")
    for (path, method), operation in OPERATIONS.items():
        responses = document["paths"][path][method.lower()]["responses"]
        assert ("401" in responses) == (operation.auth is not None), (path, method)


def test_every_link_names_an_operation_of_the_document():
    document = openapi_document("test")
    operation_ids = {
        entry["operationId"]
        for item in document["paths"].values()
        for entry in item.values()
        if "operationId" in entry
    }
    for item in document["paths"].values():
        for entry in item.values():
            for response in entry["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operation_ids


def test_country_currency_and_time_zone_are_enums_as_the_code_checks_them():
    schemas = openapi_document("test")["components"]["schemas"]
    shop = schemas["ShopCreate"]["properties"]
    assert "US" in shop["country"]["enum"] and "UK" not in shop["country"]["enum"]
    assert "USD" in shop["currency"]["enum"] and "" not in shop["currency"]["enum"]
    assert "Europe/Paris" in shop["timezone"]["enum"] and "" not in shop["timezone"]["enum"]


def test_every_route_that_reads_a_json_body_lists_400_for_a_missing_or_malformed_one():
    # parse_body answers 400 malformed_json for an empty body as for one that is not JSON.
    document = openapi_document("test")
    for path, item in document["paths"].items():
        for method, entry in item.items():
            if "application/json" in entry.get("requestBody", {}).get("content", {}):
                assert "400" in entry["responses"], (method, path)


def test_the_webhook_delivery_is_signed_and_says_so():
    entry = openapi_document("test")["paths"]["/webhooks/whatsapp"]["post"]
    scheme = openapi_document("test")["components"]["securitySchemes"]["whatsappSignature"]
    assert entry["security"] == [{"whatsappSignature": []}]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-Hub-Signature-256"}
    assert "401" in entry["responses"]
