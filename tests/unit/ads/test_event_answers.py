"""The event route's answers: the same for a genuine token and a forged one of its kind; only a
genuine one is queued, once per sandbox however often its URL is fetched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chatshop.ads.events import AdEvent, EventAnswer, answer_event, peer_event_urls
from chatshop.ads.tokens import CLICK, IMPRESSION, EventKeys, sign_event, verify
from chatshop.platform.ttl_cache import TTLCache

KEYS = EventKeys.parse("1:unit-test-signing-key-0123456789")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
LANDING = "https://chatshop.example/"
REGION = "eu-west-1"


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[AdEvent] = []

    def send(self, event: AdEvent) -> None:
        self.sent.append(event)


def token(kind, destination=None, keys=KEYS, now=NOW, region=REGION) -> str:
    return sign_event(
        keys,
        kind=kind,
        decision_id="d" * 32,
        campaign_id="c" * 32,
        ad_id="ad-1",
        user_key=None,
        price_milli=100,
        now=now,
        region=region,
        destination=destination,
    )


def test_a_genuine_impression_is_queued_and_answered_204():
    queue = FakeQueue()
    assert answer_event(token(IMPRESSION), KEYS, queue, LANDING, NOW, region=REGION) == EventAnswer(204)
    assert [e.kind for e in queue.sent] == [IMPRESSION]


def test_a_click_goes_to_its_signed_destination_or_the_landing_page():
    queue = FakeQueue()
    answer = answer_event(token(CLICK, "https://shop.example/p"), KEYS, queue, LANDING, NOW, region=REGION)
    assert answer == EventAnswer(302, "https://shop.example/p")
    assert answer_event(token(CLICK), KEYS, queue, LANDING, NOW, region=REGION) == EventAnswer(302, LANDING)


def test_forged_and_expired_tokens_get_the_genuine_answer_and_are_not_queued():
    queue = FakeQueue()
    other = EventKeys.parse("1:not-the-key-this-route-knows-at-all")
    assert answer_event(
        token(IMPRESSION, keys=other), KEYS, queue, LANDING, NOW, region=REGION
    ) == EventAnswer(204)
    assert answer_event(
        token(CLICK, "https://evil.example/", keys=other), KEYS, queue, LANDING, NOW, region=REGION
    ) == (EventAnswer(302, LANDING))
    old = token(CLICK, "https://shop.example/p", now=NOW - timedelta(days=2))
    assert answer_event(old, KEYS, queue, LANDING, NOW, region=REGION) == EventAnswer(302, LANDING)
    assert answer_event("i" + "A" * 80, KEYS, queue, LANDING, NOW, region=REGION) == EventAnswer(204)
    assert queue.sent == []


def test_a_url_fetched_again_is_queued_once_per_sandbox():
    queue, seen = FakeQueue(), TTLCache(100, 600)
    genuine = token(IMPRESSION)
    answers = [answer_event(genuine, KEYS, queue, LANDING, NOW, seen, region=REGION) for _ in range(4)]
    assert answers == [EventAnswer(204)] * 4 and len(queue.sent) == 1


US_PEERS = {
    "eu-west-1": "https://eu.api.example/ads/events/",
    "sa-east-1": "https://sa.api.example/ads/events/",
}


def test_another_region_s_impression_is_answered_as_a_forged_one_and_not_queued():
    queue = FakeQueue()
    answer = answer_event(token(IMPRESSION), KEYS, queue, LANDING, NOW, region="us-east-1", peers=US_PEERS)
    assert answer == EventAnswer(204) and queue.sent == []


def test_another_region_s_click_goes_on_to_that_region_s_event_url_uncounted():
    queue, seen = FakeQueue(), TTLCache(100, 600)
    genuine = token(CLICK, "https://shop.example/p")
    answer = answer_event(genuine, KEYS, queue, LANDING, NOW, seen, region="us-east-1", peers=US_PEERS)
    assert answer == EventAnswer(302, "https://eu.api.example/ads/events/" + genuine)
    assert queue.sent == [] and seen.get(verify(KEYS, genuine, NOW).event_id) is None
    # At home it is counted
    assert answer_event(genuine, KEYS, queue, LANDING, NOW, region="eu-west-1") == (
        EventAnswer(302, "https://shop.example/p")
    )
    assert [e.kind for e in queue.sent] == [CLICK]


def test_a_click_of_a_region_that_is_no_peer_goes_to_its_signed_destination_uncounted():
    queue = FakeQueue()
    clicked = token(CLICK, "https://shop.example/p", region="ap-south-1")
    answer = answer_event(clicked, KEYS, queue, LANDING, NOW, region="us-east-1", peers=US_PEERS)
    assert answer == EventAnswer(302, "https://shop.example/p") and queue.sent == []


def test_peer_event_urls_come_from_the_webhook_peers_setting():
    peers = "eu-west-1=https://eu.api.example/Prod/webhooks/whatsapp,us-east-1=http://127.0.0.1:1/webhooks/whatsapp"
    assert peer_event_urls(peers, "us-east-1") == {"eu-west-1": "https://eu.api.example/Prod/ads/events/"}
    assert peer_event_urls("sa-east-1=https://hooks.example/meta", "us-east-1") == {}
    assert peer_event_urls(None, "us-east-1") == {}
