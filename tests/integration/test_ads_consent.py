"""Consent and the ad profile over the real stack: given, the profile grows from clicks; withdrawn or
objected, the profile is gone and the next read is contextual; minors and special categories never."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chatshop.ads.events import AdEvent, EventRecorder, Outcome
from chatshop.ads.tokens import CLICK, EventKeys, sign_event, verify
from chatshop.ads.users import UserStore, chat_user_key
from chatshop.platform.config import Settings, load_settings
from chatshop.privacy.chat import record_chat_consent
from chatshop.privacy.consent_store import ConsentStore
from chatshop_local import environ
from chatshop_local.ads_secrets import LOCAL_EVENT_KEYS, LOCAL_USER_KEY_SECRET

pytestmark = pytest.mark.integration

KEYS = EventKeys.parse(LOCAL_EVENT_KEYS)
WORDING = "Show me ads based on what I look at and click in the marketplace. You can stop this at any time."


@pytest.fixture(scope="module")
def ads_settings(app_stack) -> Iterator[Settings]:
    with environ.function_environ(dict(app_stack.functions["AdsFunction"].environment)):
        yield load_settings()


@pytest.fixture
def users(ads_settings) -> UserStore:
    return UserStore(ads_settings)


@pytest.fixture
def recorder(ads_settings) -> EventRecorder:
    return EventRecorder(ads_settings)


def new_user() -> str:
    return "u_" + secrets.token_urlsafe(16)


def consent(api, user: str, state: str, **fields):
    body = {
        "purpose": "personalised_ads",
        "state": state,
        "wording": WORDING,
        "source": "marketplace_web",
        "country": "US",
    }
    return api.request("PUT", f"/privacy/consents/{user}", body | fields)


def click(recorder: EventRecorder, user: str, category: str) -> Outcome:
    """A click as the ad-events worker takes it from the queue (a CPC ad with nothing to charge here)."""
    token = sign_event(
        KEYS,
        kind=CLICK,
        decision_id=uuid.uuid4().hex,
        campaign_id=uuid.uuid4().hex,
        ad_id="ad-1",
        user_key=user,
        price_milli=0,
        now=datetime.now(UTC),
        region="us-east-1",
        category=category,
    )
    claim = verify(KEYS, token, datetime.now(UTC))
    assert claim is not None
    return recorder.record(AdEvent.of(claim, datetime.now(UTC)))


def test_consent_is_recorded_with_its_time_wording_and_source_and_read_back(api):
    user = new_user()
    assert api.get(f"/privacy/consents/{user}").json["consents"] == [
        {
            "purpose": "personalised_ads",
            "state": "not_given",
            "recorded_at": None,
            "wording": None,
            "source": None,
            "country": None,
            "language": None,
        }
    ]
    reply = consent(api, user, "given", language="en")
    assert reply.status == 200, reply.raw
    current = reply.json["consents"][0]
    assert (current["state"], current["wording"], current["source"], current["country"]) == (
        "given",
        WORDING,
        "marketplace_web",
        "US",
    )
    assert datetime.fromisoformat(current["recorded_at"]) <= datetime.now(UTC)
    assert consent(api, user, "withdrawn", wording="Stop personalised ads").status == 200
    read = api.get(f"/privacy/consents/{user}").json
    assert read["consents"][0]["state"] == "withdrawn"
    assert [h["state"] for h in read["history"]] == ["withdrawn", "given"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"purpose": "ads_for_everything", "state": "given", "wording": "x", "source": "marketplace_web"},
            "purpose",
        ),
        (
            {"purpose": "personalised_ads", "state": "maybe", "wording": "x", "source": "marketplace_web"},
            "state",
        ),
        (
            {"purpose": "personalised_ads", "state": "given", "wording": "  ", "source": "marketplace_web"},
            "wording",
        ),
        (
            {"purpose": "personalised_ads", "state": "given", "wording": "x", "source": "a billboard"},
            "source",
        ),
        ({"purpose": "personalised_ads", "state": "given", "source": "marketplace_web"}, "wording"),
    ],
)
def test_a_bad_consent_is_refused_naming_the_field_and_nothing_is_recorded(api, body, field):
    user = new_user()
    reply = api.request("PUT", f"/privacy/consents/{user}", body)
    assert reply.status == 422 and field in reply.json["error"]["details"]["fields"], reply.raw
    assert api.get(f"/privacy/consents/{user}").json["history"] == []


def test_a_user_key_that_is_not_a_pseudonym_is_refused(api):
    for key in ("short", "has%20space%20in%20it%20ok", "a" * 65):
        reply = api.get(f"/privacy/consents/{key}")
        assert reply.status == 422 and reply.json["error"]["details"]["fields"] == ["user_key"], key


def test_with_consent_clicks_grow_the_profile_and_a_withdrawal_deletes_it_at_once(api, users, recorder):
    user = new_user()
    # Without consent, a click leaves no profile
    assert click(recorder, user, "Outdoor > Tents") is Outcome.COUNTED
    assert users.load_user(user).affinities == {}

    # Given consent, clicks on a category grow its affinity
    consent(api, user, "given")
    click(recorder, user, "Outdoor > Tents")
    click(recorder, user, "Outdoor > Tents")
    click(recorder, user, "Kitchen")
    context = users.load_user(user)
    assert context.personalised
    assert context.affinities["outdoor > tents"] > context.affinities["kitchen"] > 0

    # When consent is withdrawn, the very next read is contextual and the profile is gone
    consent(api, user, "withdrawn", wording="Stop personalised ads")
    context = users.load_user(user)
    assert not context.personalised and context.affinities == {}
    items = users.client.query(
        TableName=users.table,
        KeyConditionExpression="pk = :pk AND sk = :sk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user}"}, ":sk": {"S": "PROFILE"}},
        ConsistentRead=True,
    )["Items"]
    assert items == []
    # and clicks no longer grow it
    click(recorder, user, "Outdoor > Tents")
    assert users.load_user(user).affinities == {}

    # Consenting again starts from nothing
    consent(api, user, "given")
    assert users.load_user(user).affinities == {}


def test_an_objection_stops_personalisation_as_a_withdrawal_does(api, users, recorder):
    user = new_user()
    consent(api, user, "given")
    click(recorder, user, "Books")
    assert users.load_user(user).affinities
    consent(api, user, "objected", wording="I object to profiling for advertising")
    assert not users.load_user(user).personalised and users.load_user(user).affinities == {}


def test_a_minor_is_never_profiled_even_with_consent(api, users, recorder):
    user = new_user()
    consent(api, user, "given")
    click(recorder, user, "Toys")
    users.set_minor(user, True, datetime.now(UTC))
    assert users.load_user(user).affinities == {} and not users.load_user(user).personalised
    click(recorder, user, "Toys")
    users.set_minor(user, False, datetime.now(UTC))
    assert users.load_user(user).affinities == {}  # nothing was recorded while a minor


def test_a_special_category_is_never_recorded_even_with_consent(api, users, recorder):
    user = new_user()
    consent(api, user, "given")
    click(recorder, user, "Health > Vitamins")
    click(recorder, user, "Religious books")
    click(recorder, user, "Garden")
    assert set(users.load_user(user).affinities) == {"garden"}


def test_consent_given_in_the_chat_holds_for_the_customer_s_pseudonymous_key(ads_settings, api, users):
    store = ConsentStore(ads_settings)
    record_chat_consent(
        store, LOCAL_USER_KEY_SECRET.encode(), "15551230000", "given", WORDING, datetime.now(UTC), "US"
    )
    key = chat_user_key("15551230000", LOCAL_USER_KEY_SECRET.encode())
    assert users.load_user(key).personalised
    read = api.get(f"/privacy/consents/{key}").json
    assert read["consents"][0]["source"] == "whatsapp" and read["consents"][0]["country"] == "US"
    assert "15551230000" not in str(read)


def test_a_consent_needs_the_user_s_country_and_is_refused_for_another_region_s(api):
    user = new_user()
    missing = api.request(
        "PUT",
        f"/privacy/consents/{user}",
        {"purpose": "personalised_ads", "state": "given", "wording": WORDING, "source": "marketplace_web"},
    )
    assert missing.status == 422 and "country" in missing.json["error"]["details"]["fields"], missing.raw
    # A German user's consent is kept in eu-west-1 only: this us-east-1 stack refuses it, as its
    # decisions refuse a German user, and keeps nothing
    foreign = consent(api, user, "given", country="DE")
    assert foreign.status == 403, foreign.raw
    assert foreign.json["error"]["code"] == "feature_not_available_in_region"
    assert foreign.json["error"]["details"] == {"feature": "shop_ads", "country": "DE"}
    assert api.get(f"/privacy/consents/{user}").json["consents"][0]["state"] == "not_given"
