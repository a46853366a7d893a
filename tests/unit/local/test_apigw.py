"""Unit tests for the pure core of the local API Gateway emulator (no sockets, no I/O)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from chatshop_local.apigw import (
    MAX_LAMBDA_RESPONSE_BYTES,
    MAX_REQUEST_BODY_BYTES,
    GatewayContext,
    HttpRequest,
    MalformedProxyResponse,
    MethodNotAllowed,
    NoRoute,
    PayloadTooLarge,
    Route,
    RouteMatch,
    RouteTable,
    build_proxy_event,
    gateway_error,
    is_binary_media_type,
    map_proxy_result,
    proxy_result_to_http,
)

REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
NOW = datetime(2015, 4, 9, 12, 34, 56, 789000, tzinfo=UTC)

# The shape of AWS's documented REST API proxy event ("Input format of a Lambda function for proxy
# integration"): every top-level key and the requestContext keys this emulator promises, with the JSON
# type each value has in the documented example (None where the example has null).
DOCUMENTED_TOP_LEVEL = {
    "resource": str,
    "path": str,
    "httpMethod": str,
    "headers": dict,
    "multiValueHeaders": dict,
    "queryStringParameters": dict,
    "multiValueQueryStringParameters": dict,
    "pathParameters": dict,
    "stageVariables": type(None),
    "requestContext": dict,
    "body": str,
    "isBase64Encoded": bool,
}
DOCUMENTED_REQUEST_CONTEXT = {
    "accountId": str,
    "apiId": str,
    "domainName": str,
    "domainPrefix": str,
    "extendedRequestId": str,
    "httpMethod": str,
    "identity": dict,
    "path": str,
    "protocol": str,
    "requestId": str,
    "requestTime": str,
    "requestTimeEpoch": int,
    "resourceId": str,
    "resourcePath": str,
    "stage": str,
}
DOCUMENTED_IDENTITY_KEYS = {
    "accessKey",
    "accountId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
    "sourceIp",
    "user",
    "userAgent",
    "userArn",
}


def _request(
    method: str = "GET",
    path: str = "/shops/s1",
    query_string: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        path=path,
        query_string=query_string,
        headers=headers if headers is not None else [("Host", "localhost:3000")],
        body=body,
        source_ip="192.0.2.10",
    )


def _match(resource: str = "/shops/{shop_id}", params: dict[str, str] | None = None) -> RouteMatch:
    return RouteMatch(
        route=Route(resource=resource, method="ANY", target="ShopsFunction"),
        path_parameters={"shop_id": "s1"} if params is None else params,
    )


def _event(request: HttpRequest, match: RouteMatch | None = None, **context: object) -> dict:
    return build_proxy_event(request, match or _match(), GatewayContext(**context), REQUEST_ID, NOW)


def _header(response, name: str) -> list[str]:
    return [value for key, value in response.headers if key.lower() == name.lower()]


# --------------------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def table() -> RouteTable:
    return RouteTable(
        [
            Route("/", "GET", "Root"),
            Route("/shops", "GET", "ListShops"),
            Route("/shops", "POST", "CreateShop"),
            Route("/shops/{shop_id}", "GET", "GetShop"),
            Route("/shops/mine", "GET", "MyShop"),
            Route("/shops/{shop_id}/products/{product_id}", "ANY", "Product"),
            Route("/files/{proxy+}", "GET", "Files"),
            Route("/{proxy+}", "ANY", "CatchAll"),
        ]
    )


def test_static_segment_beats_parameter(table: RouteTable) -> None:
    # When
    match = table.match("GET", "/shops/mine")

    # Then
    assert match.route.target == "MyShop"
    assert match.path_parameters == {}


def test_parameter_beats_greedy(table: RouteTable) -> None:
    match = table.match("GET", "/shops/s-42")

    assert match.route.target == "GetShop"
    assert match.path_parameters == {"shop_id": "s-42"}


def test_greedy_catches_what_nothing_more_specific_matches(table: RouteTable) -> None:
    match = table.match("DELETE", "/unknown/deep/path")

    assert match.route.target == "CatchAll"
    assert match.path_parameters == {"proxy": "unknown/deep/path"}


def test_backtracks_to_a_less_specific_branch_when_the_specific_one_dead_ends(table: RouteTable) -> None:
    # Given /shops/mine has no child "extra", nor does /shops/{shop_id}
    # When
    match = table.match("GET", "/shops/mine/extra")

    # Then the greedy root resource takes it
    assert match.route.target == "CatchAll"
    assert match.path_parameters == {"proxy": "shops/mine/extra"}


def test_path_parameters_are_url_decoded(table: RouteTable) -> None:
    match = table.match("PUT", "/shops/caf%C3%A9%20bar/products/a%2Fb+c")

    assert match.route.target == "Product"
    assert match.path_parameters == {"shop_id": "café bar", "product_id": "a/b+c"}


def test_greedy_parameter_keeps_slashes_and_is_decoded(table: RouteTable) -> None:
    match = table.match("GET", "/files/2024/report%20final.pdf")

    assert match.route.target == "Files"
    assert match.path_parameters == {"proxy": "2024/report final.pdf"}


def test_greedy_parameter_needs_at_least_one_segment() -> None:
    # Given only a greedy child under /files
    table = RouteTable([Route("/files/{proxy+}", "GET", "Files")])

    # When / Then
    with pytest.raises(NoRoute):
        table.match("GET", "/files")
    with pytest.raises(NoRoute):
        table.match("GET", "/files/")


def test_trailing_slash_matches_the_resource(table: RouteTable) -> None:
    assert table.match("GET", "/shops/").route.target == "ListShops"
    assert table.match("GET", "/shops/s1/").path_parameters == {"shop_id": "s1"}


def test_root_is_a_resource(table: RouteTable) -> None:
    match = table.match("GET", "/")

    assert match.route.target == "Root"
    assert match.route.resource == "/"


def test_any_matches_every_method(table: RouteTable) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
        assert table.match(method, "/shops/s1/products/p1").route.target == "Product"


def test_specific_method_beats_any_on_the_same_resource() -> None:
    table = RouteTable([Route("/items", "ANY", "Any"), Route("/items", "get", "Get")])

    assert table.match("GET", "/items").route.target == "Get"
    assert table.match("POST", "/items").route.target == "Any"


def test_wrong_method_is_not_allowed_with_sorted_allowed_list(table: RouteTable) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        table.match("DELETE", "/shops")

    assert caught.value.allowed == ["GET", "POST"]


def test_head_is_not_implied_by_get(table: RouteTable) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        table.match("HEAD", "/shops/mine")

    assert caught.value.allowed == ["GET"]


def test_unknown_path_raises_no_route() -> None:
    table = RouteTable([Route("/shops", "GET", "ListShops"), Route("/shops/{shop_id}", "GET", "GetShop")])

    for path in ("/nope", "/shops/s1/extra", "/shops//", "", "shops"):
        with pytest.raises(NoRoute):
            table.match("GET", path)


def test_intermediate_path_without_routes_is_not_a_resource() -> None:
    # Given /shops only exists as the parent of /shops/{shop_id}
    table = RouteTable([Route("/shops/{shop_id}", "GET", "GetShop")])

    # When / Then
    with pytest.raises(NoRoute):
        table.match("GET", "/shops")


def test_static_segments_are_case_sensitive() -> None:
    table = RouteTable([Route("/shops", "GET", "ListShops")])

    with pytest.raises(NoRoute):
        table.match("GET", "/Shops")


def test_empty_segment_does_not_match_a_parameter() -> None:
    table = RouteTable([Route("/shops/{shop_id}/products", "GET", "Products")])

    with pytest.raises(NoRoute):
        table.match("GET", "/shops//products")


def test_resources_lists_each_template_once(table: RouteTable) -> None:
    assert table.resources() == [
        "/",
        "/files/{proxy+}",
        "/shops",
        "/shops/mine",
        "/shops/{shop_id}",
        "/shops/{shop_id}/products/{product_id}",
        "/{proxy+}",
    ]


@pytest.mark.parametrize(
    "routes",
    [
        [Route("/shops", "GET", "A"), Route("/shops", "GET", "B")],
        [Route("/shops/{shop_id}", "GET", "A"), Route("/shops/{id}/x", "GET", "B")],
        [Route("/files/{proxy+}/x", "GET", "A")],
        [Route("/shops/", "GET", "A")],
        [Route("shops", "GET", "A")],
        [Route("/a//b", "GET", "A")],
        [Route("/a/file.{ext}", "GET", "A")],
        [Route("/{id}/{id}", "GET", "A")],
        [Route("/shops", "FETCH", "A")],
    ],
)
def test_invalid_route_tables_are_rejected(routes: list[Route]) -> None:
    with pytest.raises(ValueError):
        RouteTable(routes)


# --------------------------------------------------------------------------------------------------------
# Request -> proxy event
# --------------------------------------------------------------------------------------------------------


def test_event_has_the_documented_shape() -> None:
    # Given a request that exercises every part of the event
    request = _request(
        method="POST",
        path="/shops/s1",
        query_string="name=me&multivalueName=you&multivalueName=me",
        headers=[
            ("Host", "abc123.execute-api.us-east-1.amazonaws.com"),
            ("Content-Type", "application/json"),
            ("User-Agent", "curl/8.5.0"),
        ],
        body=b'{"a": 1}',
    )

    # When
    event = _event(request, stage="testStage", api_id="abc123")

    # Then every documented key is present with the documented type
    for key, kind in DOCUMENTED_TOP_LEVEL.items():
        assert isinstance(event[key], kind), key
    for key, kind in DOCUMENTED_REQUEST_CONTEXT.items():
        assert isinstance(event["requestContext"][key], kind), key
    assert set(event["requestContext"]["identity"]) >= DOCUMENTED_IDENTITY_KEYS
    # And the values follow from the request
    context = event["requestContext"]
    assert event["resource"] == "/shops/{shop_id}"
    assert event["path"] == "/shops/s1"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"shop_id": "s1"}
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "abc123"
    assert context["domainName"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert context["domainPrefix"] == "abc123"
    assert context["httpMethod"] == "POST"
    assert context["path"] == "/testStage/shops/s1"
    assert context["protocol"] == "HTTP/1.1"
    assert context["requestId"] == REQUEST_ID
    assert context["resourcePath"] == "/shops/{shop_id}"
    assert context["stage"] == "testStage"
    assert context["identity"]["sourceIp"] == "192.0.2.10"
    assert context["identity"]["userAgent"] == "curl/8.5.0"
    assert all(
        value is None for key, value in context["identity"].items() if key not in {"sourceIp", "userAgent"}
    )


def test_event_is_json_and_parses_with_powertools_model() -> None:
    # Given the event goes over the wire as JSON
    event = json.loads(json.dumps(_event(_request(query_string="a=1"))))

    # When the function parses it the way chatshop's handlers would
    parsed = APIGatewayProxyEventModel(**event)

    # Then
    assert parsed.pathParameters == {"shop_id": "s1"}
    assert parsed.requestContext.resourcePath == "/shops/{shop_id}"


def test_request_time_formats() -> None:
    context = _event(_request())["requestContext"]

    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1428582896789


def test_request_time_is_converted_to_utc() -> None:
    # Given a local time two hours ahead of UTC
    local = datetime(2015, 4, 9, 14, 34, 56, 789000, tzinfo=timezone(timedelta(hours=2)))

    # When
    context = build_proxy_event(_request(), _match(), GatewayContext(), REQUEST_ID, local)["requestContext"]

    # Then
    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["requestTimeEpoch"] == 1428582896789


def test_ids_are_stable_per_request_and_resource() -> None:
    first = _event(_request())["requestContext"]
    second = _event(_request())["requestContext"]
    other = _event(_request(path="/"), _match("/", {}))["requestContext"]

    assert first["extendedRequestId"] == second["extendedRequestId"] != REQUEST_ID
    assert first["resourceId"] == second["resourceId"] != other["resourceId"]
    assert len(first["resourceId"]) == 6


def test_domain_name_falls_back_to_execute_api_host() -> None:
    context = _event(_request(headers=[]), api_id="abc123", region="eu-west-1")["requestContext"]

    assert context["domainName"] == "abc123.execute-api.eu-west-1.amazonaws.com"
    assert context["domainPrefix"] == "abc123"


def test_domain_prefix_drops_the_port() -> None:
    assert _event(_request())["requestContext"]["domainPrefix"] == "localhost"


def test_multi_value_headers_keep_all_values_and_headers_keep_the_last() -> None:
    # Given a repeated header, in the client's case
    request = _request(headers=[("Host", "localhost"), ("X-Tag", "a"), ("Accept", "*/*"), ("X-Tag", "b")])

    # When
    event = _event(request)

    # Then
    assert event["headers"] == {"Host": "localhost", "X-Tag": "b", "Accept": "*/*"}
    assert event["multiValueHeaders"] == {"Host": ["localhost"], "X-Tag": ["a", "b"], "Accept": ["*/*"]}


def test_query_string_last_value_wins_and_blank_values_are_kept() -> None:
    event = _event(_request(query_string="a=1&a=2&b="))

    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}


def test_query_string_is_decoded() -> None:
    event = _event(_request(query_string="q=caf%C3%A9+au+lait&t=%2B1&flag"))

    assert event["queryStringParameters"] == {"q": "café au lait", "t": "+1", "flag": ""}


def test_no_query_string_gives_none() -> None:
    event = _event(_request(query_string=""))

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_no_path_parameters_gives_none() -> None:
    assert _event(_request(path="/shops"), _match("/shops", {}))["pathParameters"] is None


def test_empty_body_is_none() -> None:
    event = _event(_request(body=b""))

    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_json_body_is_passed_as_text() -> None:
    body = json.dumps({"name": "Café"}).encode()

    event = _event(_request(headers=[("Content-Type", "application/json; charset=utf-8")], body=body))

    assert event["body"] == body.decode()
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "IMAGE/JPEG", "application/octet-stream", "multipart/form-data; boundary=xyz"],
)
def test_binary_media_type_body_is_base64(content_type: str) -> None:
    # Given bytes that would even decode as UTF-8
    body = b"PNG-ish bytes"

    # When
    event = _event(_request(headers=[("content-type", content_type)], body=body))

    # Then
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_non_utf8_body_is_base64_whatever_the_content_type() -> None:
    body = b"\xff\xfe\x00binary"

    event = _event(_request(headers=[("Content-Type", "text/plain")], body=body))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_binary_media_type_wildcards() -> None:
    assert is_binary_media_type("image/webp", ["image/*"])
    assert is_binary_media_type("text/csv", ["*/*"])
    assert not is_binary_media_type("application/json", ["image/*", "application/octet-stream"])
    assert not is_binary_media_type("garbage", ["*/*"])


def test_oversize_request_body_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        _event(_request(body=b"x" * (MAX_REQUEST_BODY_BYTES + 1)))


# --------------------------------------------------------------------------------------------------------
# Proxy result -> HTTP response
# --------------------------------------------------------------------------------------------------------


def _assert_502(response) -> None:
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}
    assert _header(response, "x-amzn-ErrorType") == ["InternalServerErrorException"]
    assert _header(response, "Content-Type") == ["application/json"]
    assert _header(response, "x-amzn-RequestId") == [REQUEST_ID]


def test_normal_result_is_mapped() -> None:
    # Given
    result = {"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Count": 3}, "body": "héllo"}

    # When
    response = proxy_result_to_http(result, REQUEST_ID)

    # Then
    assert response.status == 201
    assert response.body == "héllo".encode()
    assert _header(response, "Content-Type") == ["text/plain"]
    assert _header(response, "X-Count") == ["3"]
    assert _header(response, "x-amzn-RequestId") == [REQUEST_ID]


def test_base64_body_is_decoded() -> None:
    payload = b"\x89PNG\r\n\x1a\n\x00"
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(payload).decode(),
        "isBase64Encoded": True,
    }

    response = proxy_result_to_http(result, REQUEST_ID)

    assert response.status == 200
    assert response.body == payload


def test_bad_base64_body_is_502() -> None:
    result = {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True}

    _assert_502(proxy_result_to_http(result, REQUEST_ID))


def test_multi_value_headers_are_merged_with_single_value_headers() -> None:
    # Given a header set in both places, once with the same value and once with a new one
    result = {
        "statusCode": 200,
        "headers": {"Set-Cookie": "a=1", "X-Single": "s", "Vary": "Origin"},
        "multiValueHeaders": {"set-cookie": ["a=1", "b=2"], "Vary": ["Accept"]},
        "body": "{}",
    }

    # When
    response = proxy_result_to_http(result, REQUEST_ID)

    # Then multiValueHeaders values are all kept, the single value only if new
    assert _header(response, "Set-Cookie") == ["a=1", "b=2"]
    assert _header(response, "Vary") == ["Accept", "Origin"]
    assert _header(response, "X-Single") == ["s"]


def test_missing_status_code_is_502() -> None:
    _assert_502(proxy_result_to_http({"body": "x"}, REQUEST_ID))


@pytest.mark.parametrize("status", ["200", 200.0, True, None, 99, 600])
def test_invalid_status_code_is_502(status: object) -> None:
    _assert_502(proxy_result_to_http({"statusCode": status, "body": ""}, REQUEST_ID))


@pytest.mark.parametrize("body", [{"a": 1}, ["x"], 42, b"bytes"])
def test_body_that_is_not_a_string_is_502(body: object) -> None:
    _assert_502(proxy_result_to_http({"statusCode": 200, "body": body}, REQUEST_ID))


@pytest.mark.parametrize("result", [None, "{}", ["statusCode", 200], 200])
def test_result_that_is_not_an_object_is_502(result: object) -> None:
    _assert_502(proxy_result_to_http(result, REQUEST_ID))


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "headers": {"X-Evil": "a\r\nSet-Cookie: pwned=1"}},
        {"statusCode": 200, "headers": {"X-Evil": "a\nb"}},
        {"statusCode": 200, "multiValueHeaders": {"X-Evil": ["ok", "a\rb"]}},
        {"statusCode": 200, "headers": {"X-Evil\r\nInjected": "v"}},
        {"statusCode": 200, "headers": {"": "v"}},
        {"statusCode": 200, "headers": {"X-Nul": "a\x00b"}},
    ],
)
def test_header_injection_is_502(result: dict) -> None:
    _assert_502(proxy_result_to_http(result, REQUEST_ID))


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "headers": ["X-A", "1"]},
        {"statusCode": 200, "headers": {"X-A": {"nested": 1}}},
        {"statusCode": 200, "headers": {"X-A": None}},
        {"statusCode": 200, "multiValueHeaders": {"X-A": "not-a-list"}},
        {"statusCode": 200, "isBase64Encoded": "true", "body": ""},
        {"statusCode": 200, "body": "", "cookies": ["a=1"]},
    ],
)
def test_malformed_result_is_502(result: dict) -> None:
    _assert_502(proxy_result_to_http(result, REQUEST_ID))


def test_map_proxy_result_says_why_it_failed() -> None:
    with pytest.raises(MalformedProxyResponse, match="statusCode"):
        map_proxy_result({"body": "x"}, REQUEST_ID)


def test_content_type_defaults_to_json() -> None:
    response = proxy_result_to_http({"statusCode": 200, "body": '{"ok":true}'}, REQUEST_ID)

    assert _header(response, "Content-Type") == ["application/json"]


def test_content_type_set_in_any_case_is_kept() -> None:
    response = proxy_result_to_http({"statusCode": 200, "headers": {"content-type": "text/html"}}, REQUEST_ID)

    assert _header(response, "Content-Type") == ["text/html"]


def test_missing_body_is_empty() -> None:
    response = proxy_result_to_http({"statusCode": 204}, REQUEST_ID)

    assert response.status == 204
    assert response.body == b""


def test_oversize_result_is_502() -> None:
    # Given a result whose serialised size is over Lambda's 6 MB response limit
    result = {"statusCode": 200, "body": "x" * MAX_LAMBDA_RESPONSE_BYTES}

    # When / Then
    _assert_502(proxy_result_to_http(result, REQUEST_ID))


def test_result_just_under_the_limit_passes() -> None:
    result = {"statusCode": 200, "body": "x" * (MAX_LAMBDA_RESPONSE_BYTES - 100)}

    assert proxy_result_to_http(result, REQUEST_ID).status == 200


def test_reserved_response_headers_are_remapped_or_dropped() -> None:
    # Given headers API Gateway does not pass through as-is
    result = {
        "statusCode": 401,
        "headers": {
            "WWW-Authenticate": 'Bearer realm="chatshop"',
            "Server": "lambda",
            "Content-Length": "999",
            "Transfer-Encoding": "chunked",
            "x-amzn-RequestId": "spoofed",
        },
    }

    # When
    response = proxy_result_to_http(result, REQUEST_ID)

    # Then
    assert _header(response, "x-amzn-Remapped-WWW-Authenticate") == ['Bearer realm="chatshop"']
    assert _header(response, "x-amzn-Remapped-Server") == ["lambda"]
    assert _header(response, "WWW-Authenticate") == []
    assert _header(response, "Content-Length") == []
    assert _header(response, "Transfer-Encoding") == []
    assert _header(response, "x-amzn-RequestId") == [REQUEST_ID]


# --------------------------------------------------------------------------------------------------------
# The gateway's own errors
# --------------------------------------------------------------------------------------------------------


def test_gateway_error_body_follows_the_project_error_model() -> None:
    response = gateway_error(404, "not_found", "No route for GET /nope", REQUEST_ID)

    assert response.status == 404
    assert json.loads(response.body) == {
        "error": {"code": "not_found", "message": "No route for GET /nope", "correlation_id": REQUEST_ID}
    }
    assert _header(response, "Content-Type") == ["application/json"]
    assert _header(response, "x-amzn-RequestId") == [REQUEST_ID]
    assert _header(response, "X-Correlation-Id") == [REQUEST_ID]
    assert _header(response, "Allow") == []


def test_gateway_error_405_lists_allowed_methods() -> None:
    response = gateway_error(405, "method_not_allowed", "Use GET or POST", REQUEST_ID, allow=["POST", "GET"])

    assert response.status == 405
    assert _header(response, "Allow") == ["GET, POST"]


def test_gateway_error_rejects_non_error_status_and_header_injection() -> None:
    with pytest.raises(ValueError):
        gateway_error(200, "ok", "not an error", REQUEST_ID)
    with pytest.raises(ValueError):
        gateway_error(500, "internal", "boom", "id\r\nX-Evil: 1")
