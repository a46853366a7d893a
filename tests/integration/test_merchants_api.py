"""Merchant sign-up, API keys and their rotation, over HTTP."""

from __future__ import annotations

import pytest

from .conftest import sign_up

pytestmark = pytest.mark.integration


def test_sign_up_returns_an_id_and_a_key_that_authenticates(api):
    # When a merchant signs up
    reply = api.post("/merchants", {"name": "Ada's Shop", "email": "ada@example.com"})
    # Then it gets its id and a key, and the key works
    assert reply.status == 201
    assert set(reply.json) == {"id", "api_key"}
    me = api.as_merchant(reply.json["api_key"]).get("/merchants/me")
    assert me.status == 200
    assert me.json["id"] == reply.json["id"] and me.json["name"] == "Ada's Shop"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "email": "a@example.com"}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": "a@example.com", "plan": "gold"}, "plan"),
        ({"email": "a@example.com"}, "name"),
    ],
)
def test_bad_sign_up_is_422_naming_the_field(api, body, field):
    reply = api.post("/merchants", body)
    assert reply.status == 422
    assert reply.error_code == "validation_error"
    assert field in reply.json["error"]["details"]["fields"]


def test_malformed_json_is_400(api):
    reply = api.post("/merchants", raw=b'{"name": "A",', headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.error_code == "malformed_json"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer csk_wrong", "Basic abc", "csk_x"])
def test_missing_or_wrong_key_is_401(api, header):
    headers = {"Authorization": header} if header else {}
    reply = api.get("/merchants/me", headers=headers)
    assert reply.status == 401
    assert reply.error_code == "unauthorized"


def test_rotating_the_key_retires_the_old_one(api):
    merchant = sign_up(api)
    # When the merchant rotates its key
    reply = merchant.post("/merchants/me/api-key")
    # Then the new key works and the old one does not
    assert reply.status == 201
    assert merchant.get("/merchants/me").status == 401
    assert api.as_merchant(reply.json["api_key"]).get("/merchants/me").status == 200
