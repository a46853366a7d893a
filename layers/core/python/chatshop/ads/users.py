"""A user's side of Shop Ads: consent, profile, flags and frequency counters in one partition.

``pk=USER#<user_key>`` in the ads table, so one Query reads everything a decision needs:

* ``sk=CONSENT#personalised_ads``: the current consent (``chatshop.privacy.consent`` writes it);
* ``sk=PROFILE``: category affinities, decayed with a half-life, with the time they were decayed to;
* ``sk=FLAGS``: ``minor`` (a user known to be a minor is never profiled: DSA Art. 28);
* ``sk=CAP#<campaign_id>#<window>#<start>``: impressions of a campaign in one calendar window
  (UTC hour ``2026-12-02T14``, day ``2026-12-02``, ISO week ``2026-W49``), with a TTL past its end.

Caps are counted for every user key, consented or not: they only ever hold ads back, and are
forgotten a day after their window. A capped ad is counted when a decision chooses it, not when its
impression comes back: :meth:`UserStore.reserve` adds one to the cap's counter on the condition that
it is still under the cap, so concurrent decisions for one user never serve it more often than the
cap allows (Revive counts caps from delivered impressions, after the fact, and a burst overshoots).
The impression event then counts the other windows only. A reserved ad the user never sees still
counts: a cap errs on the side of showing less. Profiles grow only with consent, never for a minor, and never
from a special category (health, religion, sexuality ...: DSA Art. 26(3) forbids targeting from
them even with consent, so they are not recorded at all; the decision code must also skip them,
with :func:`is_special_category`).

User keys are pseudonymous: a marketplace client sends its own; a WhatsApp customer's is
:func:`chat_user_key`, a keyed HMAC of the number, so chat activity reaches a profile only under a
key the customer's consent was recorded for, and the key says nothing of the number without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from chatshop.platform import aws
from chatshop.platform.config import Settings
from chatshop.privacy.consent import USER_KEY_PATTERN

__all__ = [
    "AFFINITY_HALF_LIFE",
    "SPECIAL_CATEGORIES",
    "USER_KEY_PATTERN",
    "UserContext",
    "UserStore",
    "Window",
    "chat_user_key",
    "decayed",
    "is_special_category",
    "load_user",
    "window_start",
]

Window = Literal["hour", "day", "week"]
WINDOWS: tuple[Window, ...] = ("hour", "day", "week")
PERSONALISED_ADS = "personalised_ads"
CONSENT_SK = f"CONSENT#{PERSONALISED_ADS}"
PROFILE_SK = "PROFILE"
FLAGS_SK = "FLAGS"

AFFINITY_HALF_LIFE = timedelta(days=14)
# What one event adds to a category's affinity before decay; an impression is not a sign of interest.
SIGNAL_WEIGHTS: Mapping[str, float] = {"click": 1.0, "order": 3.0, "search": 0.5, "view": 0.3, "chat": 0.5}
MAX_AFFINITIES = 50
# Below this an affinity has decayed to nothing worth keeping (about 3 months after one click).
MIN_AFFINITY = 0.01

# Categories of personal data under GDPR Art. 9 that DSA Art. 26(3) bars ads from being targeted on,
# as the words product categories are named with. Matched against the words of a category path.
SPECIAL_CATEGORIES: frozenset[str] = frozenset(
    {
        "health",
        "medical",
        "medicine",
        "medication",
        "pharmacy",
        "pharmaceutical",
        "drugstore",
        "prescription",
        "contraception",
        "contraceptive",
        "pregnancy",
        "fertility",
        "disability",
        "mobility aids",
        "hearing aids",
        "incontinence",
        "mental health",
        "religion",
        "religious",
        "faith",
        "spiritual",
        "sexuality",
        "sexual wellness",
        "sexual health",
        "adult",
        "lgbt",
        "lgbtq",
        "politics",
        "political",
        "trade union",
        "ethnicity",
        "ethnic",
        "genetic",
        "biometric",
    }
)


def is_special_category(category: str | None) -> bool:
    """Whether ``category`` (``"Health & Beauty > Vitamins"``, ``"religious-books"``) names a special
    category of personal data; such a category is never profiled nor targeted on, consent or not."""
    if not category:
        return False
    text = re.sub(r"[^a-z]+", " ", category.lower()).split()
    words = set(text) | {f"{a} {b}" for a, b in zip(text, text[1:], strict=False)}
    return not SPECIAL_CATEGORIES.isdisjoint(words)


def chat_user_key(wa_id: str, secret: bytes) -> str:
    """The ad user key of a WhatsApp customer: HMAC-SHA256 of the number (digits only) under the
    ads user-key secret, base64url, prefixed so it never collides with a client's own key."""
    import base64

    digits = re.sub(r"\D", "", wa_id)
    if not digits:
        raise ValueError("a WhatsApp id has digits")
    mac = hmac.new(secret, digits.encode(), hashlib.sha256).digest()[:24]
    return "wa_" + base64.urlsafe_b64encode(mac).decode()


def window_start(window: Window, now: datetime) -> str:
    moment = now.astimezone(UTC)
    if window == "hour":
        return moment.strftime("%Y-%m-%dT%H")
    if window == "day":
        return moment.date().isoformat()
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def window_end(window: Window, now: datetime) -> datetime:
    moment = now.astimezone(UTC)
    if window == "hour":
        return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "day":
        return midnight + timedelta(days=1)
    return midnight + timedelta(days=7 - moment.weekday())


def cap_sk(campaign_id: str, window: Window, now: datetime) -> str:
    return f"CAP#{campaign_id}#{window}#{window_start(window, now)}"


def decayed(affinities: Mapping[str, float], since: datetime, now: datetime) -> dict[str, float]:
    """``affinities`` as they stood at ``since``, decayed to ``now`` (never grown by a clock behind)."""
    elapsed = max((now - since).total_seconds(), 0.0)
    factor = math.pow(0.5, elapsed / AFFINITY_HALF_LIFE.total_seconds())
    return {
        category: score * factor for category, score in affinities.items() if score * factor >= MIN_AFFINITY
    }


def grown(affinities: Mapping[str, float], category: str, weight: float) -> dict[str, float]:
    """``affinities`` with ``weight`` added to ``category``, the weakest dropped past MAX_AFFINITIES."""
    out = dict(affinities)
    out[category] = out.get(category, 0.0) + weight
    if len(out) > MAX_AFFINITIES:
        out = dict(sorted(out.items(), key=lambda kv: kv[1], reverse=True)[:MAX_AFFINITIES])
    return out


def normalised_category(category: str) -> str:
    return " ".join(category.lower().split())[:100]


@dataclass(frozen=True)
class UserContext:
    """What a decision may use of a user: whether it may personalise, the profile if so, the caps."""

    personalised: bool
    minor: bool
    affinities: dict[str, float] = field(default_factory=dict)
    counts: Mapping[tuple[str, Window], int] = field(default_factory=dict)
    consent_state: str = "not_given"

    def impressions(self, campaign_id: str, window: Window) -> int:
        """Impressions of ``campaign_id`` this user was counted in the current ``window``."""
        return self.counts.get((campaign_id, window), 0)


ANONYMOUS = UserContext(personalised=False, minor=False)


def user_pk(user_key: str) -> dict[str, str]:
    return {"S": f"USER#{user_key}"}


def context_of(items: list[dict[str, Any]], now: datetime) -> UserContext:
    """A UserContext from the items of a user's partition (pure; :func:`load_user` reads them)."""
    consent_state, minor, profile = "not_given", False, None
    counts: dict[tuple[str, Window], int] = {}
    current = {window: window_start(window, now) for window in WINDOWS}
    for item in items:
        sk = item["sk"]["S"]
        if sk == CONSENT_SK:
            consent_state = item.get("state", {}).get("S", "not_given")
        elif sk == FLAGS_SK:
            minor = bool(item.get("minor", {}).get("BOOL", False))
        elif sk == PROFILE_SK:
            profile = item
        elif sk.startswith("CAP#"):
            # CAP#<campaign>#<window>#<start>; a campaign id never holds '#'. Counts of past windows
            # may linger until the TTL deletes them, and are not counted.
            _, campaign_id, window, start = sk.split("#", 3)
            if window in current and current[window] == start:  # type: ignore[index]
                counts[(campaign_id, window)] = int(item.get("n", {}).get("N", "0"))  # type: ignore[index]
    personalised = consent_state == "given" and not minor
    affinities: dict[str, float] = {}
    if personalised and profile is not None:
        affinities = {
            category: score
            for category, score in decayed(*_profile_fields(profile), now).items()
            if not is_special_category(category)
        }
    return UserContext(personalised, minor, affinities, counts, consent_state)


def _profile_fields(item: dict[str, Any]) -> tuple[dict[str, float], datetime]:
    scores = {name: float(value["N"]) for name, value in item.get("affinities", {}).get("M", {}).items()}
    since = datetime.fromisoformat(item["decayed_to"]["S"]) if "decayed_to" in item else datetime.now(UTC)
    return scores, since


class UserStore:
    """Reads a user's partition in one Query; writes the profile only under consent (see grow_profile)."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.table = settings.require("ads_table")
        self.client = aws.client("dynamodb", settings)
        self._clock = clock or (lambda: datetime.now(UTC))

    def load_user(self, user_key: str | None, now: datetime | None = None) -> UserContext:
        """Everything a decision needs about the user, in one Query; no key: contextual ads only.

        Read strongly consistent and never cached, so a withdrawal or an objection is obeyed by the
        very next decision."""
        if not user_key:
            return ANONYMOUS
        now = now or self._clock()
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": user_pk(user_key)},
            "ConsistentRead": True,
        }
        while True:
            page = self.client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return context_of(items, now)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def reserve(self, user_key: str, caps: list[tuple[str, Window, int]], now: datetime) -> bool:
        """Count one impression of each ``(campaign_id, window, cap)`` in the current window, each on
        the condition that its counter is still under its cap; all of them or none. One write request:
        an UpdateItem for one, a transaction for several (a decision rarely chooses more than one
        capped ad). False: a cap was reached meanwhile (another decision got there first)."""
        updates = [
            self._reservation(user_key, campaign_id, window, cap, now) for campaign_id, window, cap in caps
        ]
        if not updates:
            return True
        try:
            if len(updates) == 1:
                self.client.update_item(**updates[0])
            else:
                self.client.transact_write_items(TransactItems=[{"Update": update} for update in updates])
        except (
            self.client.exceptions.ConditionalCheckFailedException,
            self.client.exceptions.TransactionCanceledException,
        ):
            # A cap reached, or (a transaction only) a conflict with another decision's reservation
            # of the same counter: either way this decision does without its capped ads.
            return False
        return True

    def _reservation(
        self, user_key: str, campaign_id: str, window: Window, cap: int, now: datetime
    ) -> dict[str, Any]:
        expires = int((window_end(window, now) + timedelta(days=1)).timestamp())
        return {
            "TableName": self.table,
            "Key": {"pk": user_pk(user_key), "sk": {"S": cap_sk(campaign_id, window, now)}},
            "UpdateExpression": "ADD n :one SET expires_at = :ttl",
            "ConditionExpression": "attribute_not_exists(n) OR n < :cap",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":ttl": {"N": str(expires)},
                ":cap": {"N": str(cap)},
            },
        }

    def cap_writes(
        self, user_key: str, campaign_id: str, now: datetime, reserved: str | None = None
    ) -> list[dict[str, Any]]:
        """The counter updates of one counted impression (part of the event's transaction); the
        ``reserved`` window was counted by the decision already."""
        writes = []
        for window in WINDOWS:
            if window == reserved:
                continue
            expires = int((window_end(window, now) + timedelta(days=1)).timestamp())
            writes.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {"pk": user_pk(user_key), "sk": {"S": cap_sk(campaign_id, window, now)}},
                        "UpdateExpression": "ADD n :one SET expires_at = :ttl",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":ttl": {"N": str(expires)}},
                    }
                }
            )
        return writes

    def set_minor(self, user_key: str, minor: bool, now: datetime) -> None:
        """Record that a user is (or is not) known to be a minor; a minor's profile is deleted with it."""
        key = {"pk": user_pk(user_key), "sk": {"S": FLAGS_SK}}
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**key, "minor": {"BOOL": minor}, "updated_at": {"S": now.isoformat()}},
                }
            }
        ]
        if minor:
            writes.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {"pk": user_pk(user_key), "sk": {"S": PROFILE_SK}},
                    }
                }
            )
        self.client.transact_write_items(TransactItems=writes)

    def grow_profile(self, user_key: str, category: str, signal: str, now: datetime) -> bool:
        """Add one signal (a click, an order, a search ...) on ``category`` to the user's profile, if
        the user consented, is not a minor, and the category is not special. Whether it grew.

        The write is a transaction with a check that the consent is still ``given`` and the user not
        flagged a minor, and is conditional on the profile version read: a withdrawal, which deletes
        the profile in its own transaction, either comes after (and deletes what this wrote) or
        before (and this fails its check). The profile never outlives a withdrawal."""
        weight = SIGNAL_WEIGHTS.get(signal)
        if weight is None or not category or is_special_category(category):
            return False
        category = normalised_category(category)
        cancelled = self.client.exceptions.TransactionCanceledException
        for _ in range(4):
            items = self._profile_items(user_key)
            consent = items.get(CONSENT_SK)
            if consent is None or consent.get("state", {}).get("S") != "given":
                return False
            if items.get(FLAGS_SK, {}).get("minor", {}).get("BOOL", False):
                return False
            profile = items.get(PROFILE_SK)
            if profile is None:
                scores, since, version = {}, now, 0
            else:
                scores, since = _profile_fields(profile)
                version = int(profile.get("version", {}).get("N", "0"))
            updated = grown(decayed(scores, since, now), category, weight)
            try:
                self.client.transact_write_items(
                    TransactItems=[
                        _consent_check(self.table, user_key, consent),
                        _not_minor_check(self.table, user_key),
                        {"Put": _profile_put(self.table, user_key, updated, now, version)},
                    ]
                )
                return True
            except cancelled as exc:
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in reasons[:2]:
                    return False  # consent withdrawn (or a minor flag set) meanwhile
                # the profile changed meanwhile (or a conflict): read again
        return False

    def _profile_items(self, user_key: str) -> dict[str, dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": user_pk(user_key),
                ":first": {"S": CONSENT_SK},
                ":last": {"S": PROFILE_SK},
            },
            ConsistentRead=True,
        )
        return {item["sk"]["S"]: item for item in response.get("Items", [])}


def _consent_check(table: str, user_key: str, consent: dict[str, Any]) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"pk": user_pk(user_key), "sk": {"S": CONSENT_SK}},
            "ConditionExpression": "#state = :given AND #version = :version",
            "ExpressionAttributeNames": {"#state": "state", "#version": "version"},
            "ExpressionAttributeValues": {
                ":given": {"S": "given"},
                ":version": consent.get("version", {"N": "0"}),
            },
        }
    }


def _not_minor_check(table: str, user_key: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"pk": user_pk(user_key), "sk": {"S": FLAGS_SK}},
            "ConditionExpression": "attribute_not_exists(minor) OR minor = :false",
            "ExpressionAttributeValues": {":false": {"BOOL": False}},
        }
    }


def _profile_put(
    table: str, user_key: str, affinities: dict[str, float], now: datetime, version: int
) -> dict[str, Any]:
    condition = "attribute_not_exists(pk)" if version == 0 else "#version = :version"
    put: dict[str, Any] = {
        "TableName": table,
        "Item": {
            "pk": user_pk(user_key),
            "sk": {"S": PROFILE_SK},
            "affinities": {"M": {k: {"N": f"{v:.6g}"} for k, v in affinities.items()}},
            "decayed_to": {"S": now.isoformat()},
            "version": {"N": str(version + 1)},
        },
        "ConditionExpression": condition,
    }
    if version:
        put["ExpressionAttributeNames"] = {"#version": "version"}
        put["ExpressionAttributeValues"] = {":version": {"N": str(version)}}
    return put


_default_store: dict[Settings, UserStore] = {}


def load_user(user_key: str | None, settings: Settings, now: datetime | None = None) -> UserContext:
    """:meth:`UserStore.load_user` with a store kept per settings (the decision code's one read)."""
    store = _default_store.get(settings)
    if store is None:
        store = _default_store.setdefault(settings, UserStore(settings))
    return store.load_user(user_key, now)
