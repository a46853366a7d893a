"""Click-to-WhatsApp purchases to Meta's Conversions API, sent by the Graph client to the Graph API
emulator on loopback, which checks them as Meta documents them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from chatshop.ads.conversions import CtwaPurchase, ctwa_purchase, purchase_event, send_purchase
from chatshop.messaging.graph_client import GraphClient
from chatshop.platform.config import Settings
from chatshop_local.emulator import free_port
from chatshop_local.graph_emulator import GraphEmulator

TOKEN = "EAAG-conversions-token"
DATASET = "1234567890"


@pytest.fixture
def emulator():
    emulator = GraphEmulator("127.0.0.1", free_port(), None, "app-secret", clock=time.time)
    emulator.start()
    emulator.register_number("1122334455667", "15550001111", TOKEN)
    yield emulator
    emulator.stop()


@pytest.fixture
def graph(emulator) -> GraphClient:
    return GraphClient(Settings(graph_api_url=f"{emulator.url}/{emulator.version}"))


def purchase(**fields) -> CtwaPurchase:
    values = {
        "order_id": "ord_0001",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0",
        "waba_id": "102290129340398",
        "total_minor": 4598,
        "currency": "USD",
        "ordered_at": datetime.now(UTC) - timedelta(minutes=5),
    }
    return CtwaPurchase(**(values | fields))


def test_a_purchase_is_a_business_messaging_event_with_the_click_id_and_no_personal_data():
    event = purchase_event(purchase())
    assert event["event_name"] == "Purchase" and event["event_id"] == "ord_0001"
    assert (event["action_source"], event["messaging_channel"]) == ("business_messaging", "whatsapp")
    assert set(event["user_data"]) == {"whatsapp_business_account_id", "ctwa_clid"}
    assert event["custom_data"] == {"currency": "USD", "value": 45.98}
    assert purchase_event(purchase(total_minor=4598, currency="JPY"))["custom_data"]["value"] == 4598


def test_the_emulator_accepts_a_purchase_and_counts_a_resend_once(emulator, graph):
    answer = send_purchase(graph, DATASET, TOKEN, purchase())
    assert answer is not None and answer.ok and answer.body["events_received"] == 1
    send_purchase(graph, DATASET, TOKEN, purchase())
    events = emulator.conversion_events(DATASET)
    assert len(events) == 1 and events[0]["user_data"]["ctwa_clid"].startswith("ARAk")


def test_an_order_older_than_meta_s_window_is_not_sent(emulator, graph):
    assert (
        send_purchase(graph, DATASET, TOKEN, purchase(ordered_at=datetime.now(UTC) - timedelta(days=8)))
        is None
    )
    assert emulator.conversion_events() == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"action_source": "website"}, "action_source"),
        ({"messaging_channel": "messenger"}, "messaging_channel"),
        ({"event_name": "Lead"}, "event_name"),
        ({"user_data": {"whatsapp_business_account_id": "1"}}, "ctwa_clid"),
        ({"custom_data": {"currency": "usd", "value": 1}}, "currency"),
        ({"custom_data": {"currency": "USD", "value": -1}}, "value"),
        ({"event_time": 10}, "7 days"),
        ({"event_time": "yesterday"}, "event_time"),
    ],
)
def test_the_emulator_refuses_what_meta_refuses(emulator, graph, change, words):
    event = purchase_event(purchase()) | change
    answer = graph.send_events(DATASET, TOKEN, [event])
    assert answer.status == 400 and words in answer.error_message
    assert emulator.conversion_events() == []


def test_an_unknown_token_is_refused(emulator, graph):
    answer = graph.send_events(DATASET, "EAAG-nobody", [purchase_event(purchase())])
    assert answer.status == 401 or answer.error_code == 190
    assert emulator.conversion_events() == []


class _Total:
    amount, currency = 2599, "USD"


class _Order:
    def __init__(self, attribution):
        self.id, self.total, self.attribution = "ord_42", _Total(), attribution
        self.placed_at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_only_an_order_credited_to_a_click_to_whatsapp_ad_with_a_click_id_is_a_purchase_for_meta():
    made = ctwa_purchase(_Order({"kind": "ad", "id": "120200", "ctwa_clid": "ARAkclid"}), "102290129340398")
    assert made == CtwaPurchase("ord_42", "ARAkclid", "102290129340398", 2599, "USD", _Order({}).placed_at)
    assert ctwa_purchase(_Order({"kind": "ad", "id": "120200"}), "1") is None  # a Status ad: no click id
    assert ctwa_purchase(_Order({"kind": "link", "id": "ABCD2345"}), "1") is None
    assert ctwa_purchase(_Order({"type": "organic"}), "1") is None
