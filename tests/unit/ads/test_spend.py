"""Charging, counting and consent checks of ad events against an in-memory DynamoDB (moto's, in this
process): a budget is never passed, an event counts once, a withdrawal stops the profile."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from chatshop.ads.events import AdEvent, EventRecorder, Outcome
from chatshop.ads.spend import Budget, SpendStore
from chatshop.ads.tokens import CLICK, IMPRESSION, EventKeys, sign_event, verify
from chatshop.ads.users import UserStore
from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.privacy.consent import ConsentChange
from chatshop.privacy.consent_store import ConsentStore

KEYS = EventKeys.parse("1:unit-test-signing-key-0123456789")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TABLE = "ads"


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    aws.clear_clients()
    with mock_aws():
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield Settings(ads_table=TABLE)
    aws.clear_clients()


@pytest.fixture
def spend(settings):
    return SpendStore(settings)


@pytest.fixture
def recorder(settings, spend):
    return EventRecorder(settings, spend=spend, users=UserStore(settings))


def event(kind, campaign, price_milli, *, user=None, decision=None, at=NOW, category=None) -> AdEvent:
    token = sign_event(
        KEYS,
        kind=kind,
        decision_id=decision or uuid.uuid4().hex,
        campaign_id=campaign,
        ad_id="ad-1",
        user_key=user,
        price_milli=price_milli,
        now=at,
        region="us-east-1",
        category=category,
    )
    return AdEvent.of(verify(KEYS, token, at), at)


@pytest.mark.parametrize("kind", ["daily", "lifetime"])
def test_charges_stop_at_the_last_price_that_fits(spend, recorder, kind):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget(kind, 10_000), NOW)
    outcomes = [recorder.record(event(CLICK, campaign, 3_000)) for _ in range(6)]
    assert outcomes[:3] == [Outcome.CHARGED] * 3
    assert outcomes[3:] == [Outcome.UNBILLED] * 3
    assert spend.spent(campaign) == spend.spent(campaign, NOW.date()) == 9_000
    assert campaign in spend.exhausted_campaigns(NOW)
    rows = spend.hourly_stats(campaign, NOW, NOW)
    assert (rows[0].clicks, rows[0].spent_milli, rows[0].unbilled) == (6, 9_000, 3)


def test_a_charge_that_leaves_less_than_its_price_marks_the_campaign_at_once(spend, recorder):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget("daily", 5_000), NOW)
    assert recorder.record(event(CLICK, campaign, 3_000)) is Outcome.CHARGED
    assert campaign in spend.exhausted_campaigns(NOW)  # 2,000 left: the next click would not fit


def test_a_daily_budget_starts_again_the_next_utc_day(spend, recorder):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget("daily", 3_000), NOW)
    assert recorder.record(event(CLICK, campaign, 3_000)) is Outcome.CHARGED
    assert recorder.record(event(CLICK, campaign, 3_000)) is Outcome.UNBILLED
    tomorrow = NOW + timedelta(days=1)
    fresh = SpendStore(Settings(ads_table=TABLE))  # no cached exhausted set from yesterday
    assert campaign not in fresh.exhausted_campaigns(tomorrow)
    assert (
        EventRecorder(Settings(ads_table=TABLE), spend=fresh).record(
            event(CLICK, campaign, 3_000, at=tomorrow)
        )
        is Outcome.CHARGED
    )
    assert fresh.spent(campaign) == 6_000


def test_an_event_counts_once_however_often_it_comes(spend, recorder):
    campaign, decision = uuid.uuid4().hex, uuid.uuid4().hex
    spend.set_budget(campaign, Budget("lifetime", 100_000), NOW)
    first = recorder.record(event(IMPRESSION, campaign, 500, user="u_0123456789abcdef", decision=decision))
    again = [
        recorder.record(event(IMPRESSION, campaign, 500, user="u_0123456789abcdef", decision=decision))
        for _ in range(3)
    ]
    assert first is Outcome.CHARGED and again == [Outcome.DUPLICATE] * 3
    assert spend.spent(campaign) == 500
    user = UserStore(Settings(ads_table=TABLE)).load_user("u_0123456789abcdef", NOW)
    assert user.impressions(campaign, "hour") == user.impressions(campaign, "day") == 1


def test_a_price_larger_than_the_budget_is_never_charged(spend, recorder):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget("daily", 1_000), NOW)
    assert recorder.record(event(CLICK, campaign, 5_000)) is Outcome.UNBILLED
    assert spend.spent(campaign) == 0


def test_a_lowered_budget_counts_what_was_spent(spend, recorder):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget("lifetime", 10_000), NOW)
    recorder.record(event(CLICK, campaign, 4_000))
    spend.set_budget(campaign, Budget("lifetime", 6_000), NOW)
    assert spend.left_to_spend(campaign, Budget("lifetime", 6_000), NOW) == 2_000
    assert recorder.record(event(CLICK, campaign, 4_000)) is Outcome.UNBILLED
    assert spend.spent(campaign) == 4_000


def test_a_profile_grows_only_while_consent_is_given(settings):
    users, consents, key = UserStore(settings), ConsentStore(settings), "u_profile_0123456789"
    assert not users.grow_profile(key, "Garden", "click", NOW)
    consents.record(
        key,
        ConsentChange(
            purpose="personalised_ads", state="given", wording="Yes", source="marketplace_app", country="US"
        ),
        NOW,
    )
    assert users.grow_profile(key, "Garden", "click", NOW)
    assert not users.grow_profile(key, "Pharmacy", "click", NOW)
    assert users.load_user(key, NOW).affinities == {"garden": 1.0}
    consents.record(
        key,
        ConsentChange(
            purpose="personalised_ads",
            state="withdrawn",
            wording="No",
            source="marketplace_app",
            country="US",
        ),
        NOW + timedelta(seconds=1),
    )
    assert not users.grow_profile(key, "Garden", "click", NOW + timedelta(seconds=2))
    assert users.load_user(key, NOW).affinities == {}
    history = consents.read(key).history
    assert [h.state for h in history] == ["withdrawn", "given"]


class ConflictingOnce:
    """DynamoDB as it answers when another transaction touched the same items at the same moment:
    the first transaction is cancelled with TransactionConflict, the rest go through."""

    def __init__(self, client) -> None:
        self._client, self.conflicts = client, 1

    def __getattr__(self, name):
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs):
        if self.conflicts:
            self.conflicts -= 1
            items = kwargs["TransactItems"]
            reasons = [{"Code": "None"}] + [{"Code": "TransactionConflict"}] * (len(items) - 1)
            raise self._client.exceptions.TransactionCanceledException(
                {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**kwargs)


def test_a_conflict_with_another_transaction_is_tried_again_and_charged_once(spend, recorder):
    campaign = uuid.uuid4().hex
    spend.set_budget(campaign, Budget("daily", 10_000), NOW)
    recorder.client = ConflictingOnce(recorder.client)
    assert recorder.record(event(CLICK, campaign, 3_000)) is Outcome.CHARGED
    assert recorder.client.conflicts == 0
    assert spend.spent(campaign) == 3_000
