"""Ad campaigns over HTTP: create, read, page, change with ETags and status rules; bad input."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Api, add_product, usd

pytestmark = pytest.mark.integration


def campaign_body(product_ids: list[str], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Autumn boots",
        "placements": ["marketplace_feed", "search"],
        "creative": {"product_ids": product_ids, "headline": "Boots for wet days"},
        "budget": {"period": "daily", "amount": usd(5000)},
        "bid": {"model": "cpc", "amount": usd(40)},
        "schedule": {"start": "2026-01-01T00:00:00Z"},
        "targeting": {"countries": ["US"], "categories": ["Apparel > Shoes"], "keywords": ["boots"]},
        "frequency_cap": {"impressions": 3, "window": "day"},
    }
    body.update(fields)
    return body


@pytest.fixture
def product_ids(merchant: Api, shop: dict[str, Any]) -> list[str]:
    return [add_product(merchant, shop["id"], f"BOOT-{i}").json["id"] for i in range(4)]


def test_create_read_and_list_a_campaign(merchant, shop, product_ids):
    reply = merchant.post(f"/shops/{shop['id']}/campaigns", campaign_body(product_ids[:1]))
    assert reply.status == 201, reply.raw
    campaign = reply.json
    assert campaign["status"] == "draft" and campaign["budget_exhausted"] is False
    assert campaign["schedule"]["timezone"] == shop["timezone"]
    fetched = merchant.get(f"/shops/{shop['id']}/campaigns/{campaign['id']}")
    assert fetched.status == 200 and fetched.json == campaign
    assert fetched.headers["ETag"] == reply.headers["ETag"]
    listed = merchant.get(f"/shops/{shop['id']}/campaigns")
    assert [c["id"] for c in listed.json["items"]] == [campaign["id"]]


def test_patch_needs_the_latest_etag_and_follows_the_status_rules(merchant, shop, product_ids):
    created = merchant.post(f"/shops/{shop['id']}/campaigns", campaign_body(product_ids))
    path = f"/shops/{shop['id']}/campaigns/{created.json['id']}"
    assert merchant.patch(path, {"status": "active"}).status == 428
    assert merchant.patch(path, {"status": "active"}, headers={"If-Match": '"stale-v0"'}).status == 412
    active = merchant.patch(path, {"status": "active"}, headers={"If-Match": created.headers["ETag"]})
    assert active.status == 200, active.raw
    assert active.json["status"] == "active" and active.json["version"] == 2
    ended = merchant.patch(path, {"status": "ended"}, headers={"If-Match": active.headers["ETag"]})
    assert ended.json["status"] == "ended" and ended.json["ended_reason"] == "by_merchant"
    again = merchant.patch(path, {"status": "active"}, headers={"If-Match": ended.headers["ETag"]})
    assert again.status == 409


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": ""}, "name"),
        ({"placements": ["billboard"]}, "placements.0"),
        ({"budget": {"period": "weekly", "amount": usd(100)}}, "budget.period"),
        (
            {"budget": {"period": "daily", "amount": {"amount": 100, "currency": "EUR"}}},
            "budget.amount.currency",
        ),
        ({"bid": {"model": "cpa", "amount": usd(5)}}, "bid.model"),
        ({"bid": {"model": "cpc", "amount": usd(0)}}, "bid.amount.amount"),
        ({"frequency_cap": {"impressions": 0, "window": "day"}}, "frequency_cap.impressions"),
        ({"schedule": {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}, "schedule.end"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_campaign_input_is_422_naming_the_field(merchant, shop, product_ids, change, field):
    reply = merchant.post(f"/shops/{shop['id']}/campaigns", campaign_body(product_ids[:1], **change))
    assert reply.status == 422, reply.raw
    assert field in reply.json["error"]["details"]["fields"]


def test_a_collection_of_two_or_another_shops_product_is_refused(merchant, shop, product_ids):
    two = campaign_body(product_ids[:2])
    assert merchant.post(f"/shops/{shop['id']}/campaigns", two).status == 422
    other_shop = merchant.post("/shops", {"name": "Other", "country": "US", "currency": "USD"}).json
    foreign = add_product(merchant, other_shop["id"], "FOREIGN").json["id"]
    reply = merchant.post(f"/shops/{shop['id']}/campaigns", campaign_body([foreign]))
    assert reply.status == 422
    assert "creative.product_ids" in reply.json["error"]["details"]["fields"]


def test_a_country_where_ads_are_not_live_is_403(merchant, shop, product_ids):
    # CA is served by this region, but Shop Ads is not live there; DE is live, in another region.
    for country in ("CA", "DE"):
        body = campaign_body(product_ids[:1], targeting={"countries": [country]})
        reply = merchant.post(f"/shops/{shop['id']}/campaigns", body)
        assert reply.status == 403, country
        assert reply.error_code == "feature_not_available_in_region"


def test_another_merchants_shop_is_not_yours(api, shop, product_ids):
    from .conftest import sign_up

    stranger = sign_up(api, "Stranger")
    assert stranger.get(f"/shops/{shop['id']}/campaigns").status in (403, 404)
    assert stranger.post(f"/shops/{shop['id']}/campaigns", campaign_body(product_ids[:1])).status in (
        403,
        404,
    )


def test_a_report_has_a_row_per_hour_or_day_and_refuses_a_bad_range(merchant, shop, product_ids):
    created = merchant.post(f"/shops/{shop['id']}/campaigns", campaign_body(product_ids[:1])).json
    path = f"/shops/{shop['id']}/campaigns/{created['id']}/report"
    daily = merchant.get(f"{path}?from=2026-11-01&to=2026-11-08")
    assert daily.status == 200, daily.raw
    assert len(daily.json["rows"]) == 7 and daily.json["granularity"] == "day"
    assert daily.json["totals"]["spend"] == usd(0) and daily.json["totals"]["roas"] is None
    hourly = merchant.get(f"{path}?granularity=hour&from=2026-11-01T00:00:00Z&to=2026-11-01T06:00:00Z")
    assert len(hourly.json["rows"]) == 6
    assert merchant.get(f"{path}?granularity=minute").status == 422
    assert merchant.get(f"{path}?from=2026-11-08&to=2026-11-01").status == 422
    assert merchant.get(f"{path}?granularity=hour&from=2026-01-01&to=2026-11-01").status == 422
    assert merchant.get(f"{path}?from=yesterday").status == 422
