"""What credits a paid order to a campaign (pure): the campaign's link code opened its chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from chatshop.ads.attribution import credited_campaign
from chatshop.ads.chat_links import campaign_chat_url, campaign_link_code
from chatshop.ads.domain import Campaign
from chatshop.recruiting.sources import link_code_in

NOW = datetime(2026, 12, 2, 15, 2, tzinfo=UTC)


def campaign(cid: str, objective: str = "messages") -> Campaign:
    return Campaign.model_validate(
        {
            "id": cid, "shop_id": "s1", "name": "c", "objective": objective, "placements": ["search"],
            "creative": {"product_ids": [f"p{1:031x}"], "headline": "h"},
            "budget": {"period": "daily", "amount": {"amount": 5000, "currency": "USD"}},
            "bid": {"model": "cpc", "amount": {"amount": 40, "currency": "USD"}},
            "schedule": {"start": NOW - timedelta(days=1), "end": None, "timezone": "UTC"},
            "targeting": {"countries": ["US"]}, "status": "active", "version": 1,
            "created_at": NOW, "updated_at": NOW,
        }
    )  # fmt: skip


def order(attribution: dict) -> SimpleNamespace:
    return SimpleNamespace(attribution=attribution)


def test_a_campaigns_code_is_stable_distinct_and_found_by_the_chat_in_its_prefilled_message():
    codes = {campaign_link_code(f"{i:032x}") for i in range(2000)}
    assert len(codes) == 2000
    assert campaign_link_code("a" * 32) == campaign_link_code("a" * 32)
    url = campaign_chat_url("https://wa.me/15550100000", "a" * 32, "Brass lamp & shade")
    text = parse_qs(urlsplit(url).query)["text"][0]
    assert text == f"Brass lamp & shade [{campaign_link_code('a' * 32)}]"
    assert link_code_in(text) == campaign_link_code("a" * 32)


def test_an_order_is_credited_to_the_messages_campaign_whose_link_opened_its_chat():
    ours, other = campaign("a" * 32), campaign("b" * 32)
    code = campaign_link_code(ours.id)
    assert credited_campaign(order({"kind": "link", "id": code}), [other, ours]) == ours


def test_other_orders_are_credited_to_no_campaign():
    traffic = campaign("c" * 32, objective="traffic")
    ours = campaign("a" * 32)
    # organic, a shop's own link, a Meta ad's referral, and a traffic campaign's code (it has no chat)
    assert credited_campaign(order({"type": "organic"}), [ours]) is None
    assert credited_campaign(order({"kind": "link", "id": "ABCDEFGH"}), [ours]) is None
    assert credited_campaign(order({"kind": "ad", "id": campaign_link_code(ours.id)}), [ours]) is None
    assert credited_campaign(order({"kind": "link", "id": campaign_link_code(traffic.id)}), [traffic]) is None
