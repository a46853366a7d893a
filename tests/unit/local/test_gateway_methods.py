"""Every HTTP method reaches the local gateway's router: unknown ones get 405 in the error model."""

from __future__ import annotations

import http.client
import json

import pytest

from chatshop_local.apigw import GatewayContext, Route, RouteTable
from chatshop_local.functions import InvocationResult
from chatshop_local.gateway import LocalGateway


def answer(target: str, event: dict) -> InvocationResult:
    body = json.dumps({"method": event["httpMethod"], "target": target})
    return InvocationResult("req", {"statusCode": 200, "headers": {}, "body": body}, None, 1.0)


@pytest.fixture
def gateway():
    routes = RouteTable([Route("/shops", "GET", "Shops"), Route("/shops", "POST", "Shops")])
    local = LocalGateway(routes, answer, GatewayContext(), "127.0.0.1", 0)
    local.start()
    yield local
    local.stop()


def call(gateway: LocalGateway, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    host, port = gateway.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "PUT", "BREW"])
def test_a_method_the_route_does_not_have_is_405_in_the_error_model(gateway, method):
    # When
    status, headers, body = call(gateway, method, "/shops")

    # Then
    assert status == 405
    assert headers["content-type"] == "application/json"
    assert headers["allow"] == "GET, POST"
    error = json.loads(body)["error"]
    assert error["code"] == "method_not_allowed"
    assert error["correlation_id"] == headers["x-correlation-id"]


def test_an_unknown_path_is_404_whatever_the_method(gateway):
    status, _, body = call(gateway, "TRACE", "/nowhere")

    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"


def test_a_routed_method_still_reaches_its_function(gateway):
    status, _, body = call(gateway, "POST", "/shops")

    assert status == 200
    assert json.loads(body) == {"method": "POST", "target": "Shops"}
