"""The real template.yaml running on the embedded AWS, served by the local gateway."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chatshop_local import environ
from chatshop_local.emulator import free_port
from chatshop_local.sqs_poller import SqsPoller
from chatshop_local.stack import LocalStack, StackOptions

REPO_ROOT = Path(__file__).resolve().parents[2]


def start_stack(state_dir: Path, idle: tuple[str, ...] = ()) -> LocalStack:
    """The project's stack as `chatshop dev` runs it, without demo data, on free ports. The functions
    named in ``idle`` are not fed from their queues: their jobs wait there, for a test to read."""
    stack = LocalStack(
        StackOptions(
            template_path=REPO_ROOT / "template.yaml",
            state_dir=state_dir,
            api_port=free_port(),
            aws_port=free_port(),
            graph_port=free_port(),
            seed=False,
            idle=frozenset(idle),
        )
    )
    stack.start()
    fed = {loop.mapping.function for loop in stack.loops if isinstance(loop, SqsPoller)}
    queued = {mapping.function for mapping in stack.sqs_mappings()}
    assert set(idle) <= queued, "an idle function has no queue"
    assert not fed & set(idle), "an idle function is fed from its queue"
    return stack


@pytest.fixture(scope="session")
def app_stack(tmp_path_factory: pytest.TempPathFactory):
    """The project's stack with every function wired, as `chatshop dev` runs it, without demo data."""
    stack = start_stack(tmp_path_factory.mktemp("app-state"))
    yield stack
    stack.stop(save=False)


@pytest.fixture
def shops_environ(app_stack):
    """Run the test body with the ShopsFunction's environment, as the function itself would."""
    with environ.function_environ(dict(app_stack.functions["ShopsFunction"].environment)):
        yield


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Any
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def error_code(self) -> str | None:
        body = self.json
        return body.get("error", {}).get("code") if isinstance(body, dict) else None


class Api:
    """A client of the local gateway, as an integrator would use the API."""

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def as_merchant(self, api_key: str | None) -> Api:
        return Api(self.base_url, api_key)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        if self.api_key is not None:
            sent.setdefault("Authorization", f"Bearer {self.api_key}")
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture(scope="session")
def api(app_stack) -> Api:
    return Api(app_stack.gateway.url)


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def sign_up(api: Api, name: str = "Test Merchant") -> Api:
    reply = api.post("/merchants", {"name": name, "email": "owner@example.com"})
    assert reply.status == 201, reply.raw
    return api.as_merchant(reply.json["api_key"])


def open_shop(merchant: Api, **fields: Any) -> dict[str, Any]:
    reply = merchant.post("/shops", {"name": "Corner Shop", "country": "US", "currency": "USD", **fields})
    assert reply.status == 201, reply.raw
    return reply.json


def add_product(merchant: Api, shop_id: str, retailer_id: str, **fields: Any) -> Reply:
    body = {"retailer_id": retailer_id, "title": f"Product {retailer_id}", "price": usd(1999), **fields}
    return merchant.post(f"/shops/{shop_id}/products", body)


def usd(cents: int) -> dict[str, Any]:
    return {"amount": cents, "currency": "USD"}


@pytest.fixture
def merchant(api) -> Api:
    return sign_up(api)


@pytest.fixture
def shop(merchant) -> dict[str, Any]:
    return open_shop(merchant)


@pytest.fixture(scope="session")
def fixture_shop(app_stack):
    """A shop connected to the phone number the fixture files were sent to."""
    return connect_fixture_shop(app_stack)


def connect_fixture_shop(app_stack: LocalStack) -> dict[str, Any]:
    from .whatsapp import FIXTURE_NUMBER

    merchant = sign_up(Api(app_stack.gateway.url))
    shop = open_shop(merchant)
    reply = merchant.request(
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": FIXTURE_NUMBER,
            "waba_id": "102290129340398",
            "display_phone_number": "+1 555 123 4567",
            "access_token": "EAAG-fixture-token-0123456789",
        },
    )
    assert reply.status == 200, reply.raw
    return shop
