"""The one HTTP mapping, driven through Chalice's own test client against a tiny app."""

from __future__ import annotations

import json
from typing import Any

import chalice
import pytest
from chalice.test import Client
from pydantic import BaseModel, ConfigDict, Field

from chatshop.platform import errors
from chatshop.platform.http import CORRELATION_HEADER, create_app, current_request, parse_body
from chatshop.platform.observability import get_correlation_id


class Dimensions(BaseModel):
    width_mm: int = Field(gt=0)


class NewProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    price_cents: int = Field(ge=0)
    dimensions: Dimensions | None = None


DOMAIN_ERRORS: dict[str, errors.ChatshopError] = {
    "bad_request": errors.BadRequest("Bad cursor."),
    "unauthorized": errors.Unauthorized(),
    "forbidden": errors.Forbidden(),
    "feature": errors.FeatureNotAvailable("marketplace_shops", "DE"),
    "not_found": errors.NotFound("No shop 'acme'."),
    "conflict": errors.Conflict("Slug taken."),
    "precondition": errors.PreconditionFailed(),
    "too_large": errors.PayloadTooLarge(),
    "too_many": errors.TooManyRequests(retry_after=30),
    "unavailable": errors.Unavailable(),
}


def build_app() -> chalice.Chalice:
    app = create_app("http-under-test")

    @app.route("/products", methods=["POST"])
    def create_product() -> dict[str, Any]:
        product = parse_body(NewProduct, max_bytes=1024)
        return {"name": product.name}

    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        # Chalice's own parser: raises BadRequestError("Error Parsing JSON") on a bad body.
        return {"got": app.current_request.json_body}

    @app.route("/errors/{name}")
    def domain_error(name: str) -> None:
        raise DOMAIN_ERRORS[name]

    @app.route("/chalice-not-found")
    def chalice_not_found() -> None:
        raise chalice.NotFoundError("No such catalog.")

    @app.route("/model-error")
    def model_error() -> None:
        NewProduct.model_validate({"name": "", "price_cents": 1})

    @app.route("/boom")
    def boom() -> None:
        raise RuntimeError("db at 10.0.0.12 refused password=hunter2")

    @app.route("/whoami")
    def whoami() -> dict[str, Any]:
        return {"correlation_id": get_correlation_id(), "path": current_request().path}

    blueprint = chalice.Blueprint(__name__)

    @blueprint.route("/missing")
    def missing() -> None:
        raise errors.NotFound()

    app.register_blueprint(blueprint, url_prefix="/bp")
    return app


@pytest.fixture
def client() -> Client:
    return Client(build_app())


def _json(response: Any) -> dict[str, Any]:
    return json.loads(response.body)


def _post(client: Client, path: str, body: bytes, **headers: str) -> Any:
    return client.http.post(path, body=body, headers={"Content-Type": "application/json", **headers})


def _assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    body = _json(response)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["correlation_id"] == response.headers[CORRELATION_HEADER]
    return body["error"]


def test_a_valid_body_reaches_the_view(client: Client) -> None:
    response = _post(client, "/products", b'{"name": "Mug", "price_cents": 1200}')

    assert response.status_code == 200
    assert _json(response) == {"name": "Mug"}


def test_malformed_json_is_400_malformed_json(client: Client) -> None:
    _assert_error(_post(client, "/products", b'{"name": "Mug",'), 400, "malformed_json")


def test_malformed_json_read_through_chalice_json_body_is_400_malformed_json(client: Client) -> None:
    _assert_error(_post(client, "/echo", b"{not json"), 400, "malformed_json")


def test_an_empty_body_is_400_malformed_json(client: Client) -> None:
    _assert_error(_post(client, "/products", b""), 400, "malformed_json")


def test_a_body_without_content_type_is_still_parsed(client: Client) -> None:
    response = client.http.post("/products", body=b'{"name": "Mug", "price_cents": 1}')

    assert response.status_code == 200


def test_a_body_over_the_limit_is_413(client: Client) -> None:
    body = json.dumps({"name": "x" * 2000, "price_cents": 1}).encode()

    _assert_error(_post(client, "/products", body), 413, "payload_too_large")


def test_validation_errors_are_422_naming_the_fields(client: Client) -> None:
    # Given a body with a bad top-level field, a bad nested field and an unknown field
    body = b'{"name": "Mug", "price_cents": -1, "dimensions": {"width_mm": 0}, "colour": "red"}'

    # When
    response = _post(client, "/products", body)

    # Then
    error = _assert_error(response, 422, "validation_error")
    assert error["details"]["fields"] == ["price_cents", "dimensions.width_mm", "colour"]
    assert "price_cents" in error["message"]


def test_a_pydantic_error_raised_in_a_view_is_422(client: Client) -> None:
    error = _assert_error(client.http.get("/model-error"), 422, "validation_error")

    assert error["details"]["fields"] == ["name"]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("bad_request", 400, "bad_request"),
        ("unauthorized", 401, "unauthorized"),
        ("forbidden", 403, "forbidden"),
        ("feature", 403, "feature_not_available_in_region"),
        ("not_found", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("precondition", 412, "precondition_failed"),
        ("too_large", 413, "payload_too_large"),
        ("too_many", 429, "too_many_requests"),
        ("unavailable", 503, "unavailable"),
    ],
)
def test_domain_errors_map_to_their_status_and_code(
    client: Client, name: str, status: int, code: str
) -> None:
    error = _assert_error(client.http.get(f"/errors/{name}"), status, code)

    assert error["message"] == DOMAIN_ERRORS[name].message


def test_feature_not_available_names_the_country(client: Client) -> None:
    error = _assert_error(client.http.get("/errors/feature"), 403, "feature_not_available_in_region")

    assert "DE" in error["message"]
    assert error["details"] == {"feature": "marketplace_shops", "country": "DE"}


def test_too_many_requests_says_when_to_retry(client: Client) -> None:
    response = client.http.get("/errors/too_many")

    assert response.headers["Retry-After"] == "30"


def test_chalice_view_errors_are_mapped_to_the_model(client: Client) -> None:
    error = _assert_error(client.http.get("/chalice-not-found"), 404, "not_found")

    assert error["message"] == "No such catalog."


def test_chalice_own_405_is_mapped_and_keeps_the_allow_header(client: Client) -> None:
    response = client.http.delete("/products")

    _assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


def test_chalice_own_415_is_mapped(client: Client) -> None:
    response = client.http.post("/products", body=b"name=Mug", headers={"Content-Type": "text/plain"})

    _assert_error(response, 415, "unsupported_media_type")


def test_blueprint_routes_are_mapped_too(client: Client) -> None:
    _assert_error(client.http.get("/bp/missing"), 404, "not_found")


def test_an_unexpected_exception_is_a_bare_500_and_the_traceback_goes_to_the_log(
    client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a view fails unexpectedly
    response = client.http.get("/boom")

    # Then the client sees only the code, a generic message and the correlation id
    error = _assert_error(response, 500, "internal_error")
    assert set(error) == {"code", "message", "correlation_id"}
    for leak in (b"Traceback", b"RuntimeError", b"hunter2", b"10.0.0.12"):
        assert leak not in response.body

    # And the log holds the traceback, under the same correlation id, with the secret redacted
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (failure,) = [line for line in lines if line["level"] == "ERROR"]
    assert failure["correlation_id"] == error["correlation_id"]
    assert "Traceback" in failure["exception"] and "RuntimeError" in failure["exception"]
    assert "hunter2" not in json.dumps(failure)
    assert failure["path"] == "/boom"


def test_every_response_has_a_correlation_id_the_view_can_read(client: Client) -> None:
    response = client.http.get("/whoami")

    assert response.status_code == 200
    assert _json(response) == {"correlation_id": response.headers[CORRELATION_HEADER], "path": "/whoami"}
    assert get_correlation_id() is None  # restored after the request


def _api_gateway_event(path: str, request_id: str) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": "GET",
        "headers": {"accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": "GET", "requestId": request_id},
        "body": None,
        "isBase64Encoded": False,
    }


def test_the_correlation_id_is_api_gateways_request_id() -> None:
    # Given an API Gateway proxy event, as Lambda delivers it
    app = build_app()

    # When
    response = app(_api_gateway_event("/boom", "c7b0e1f2-req-42"), None)

    # Then
    assert response["statusCode"] == 500
    assert response["headers"][CORRELATION_HEADER] == "c7b0e1f2-req-42"
    assert json.loads(response["body"])["error"]["correlation_id"] == "c7b0e1f2-req-42"


@pytest.mark.parametrize("request_id", ["evil\r\nSet-Cookie: x", "trailing-newline\n", "", "x" * 129])
def test_an_unsafe_request_id_is_replaced(request_id: str) -> None:
    response = build_app()(_api_gateway_event("/whoami", request_id), None)

    correlation_id = response["headers"][CORRELATION_HEADER]
    assert correlation_id != request_id and len(correlation_id) == 36  # a fresh uuid4
    assert json.loads(response["body"])["correlation_id"] == correlation_id


def test_parse_body_outside_a_request_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        parse_body(NewProduct)
