"""Consent per user key and purpose: given, withdrawn or objected to, each recorded as the user saw it.

Giving and withdrawing are the same call (GDPR Art. 7(3): as easy to withdraw as to give), and an
objection to profiling for direct marketing (Art. 21(2)-(3)) is recorded the same way and has the
same effect: the very next ad decision is contextual, as ``chatshop.ads.users.load_user`` reads the
consent strongly consistent and never caches it.

Withdrawing (or objecting) deletes the ad profile in the same transaction. Consent was the profile's
only lawful basis; once it goes there is nothing to keep the data for (Art. 17(1)(b)), and a profile
kept dormant would come back to life on a later consent with interests the user never agreed to
have recorded, and could leak through a bug in the consent check. Consenting again starts an empty
profile.

Every change is also appended to the user's consent log, which is never rewritten: it is the proof
that consent was given, when, with which words and through which surface (Art. 7(1)).

A consent is personal data of its user's country and is kept only in that country's home region: a
change names the user's country, and a region refuses one whose home is elsewhere
(:func:`require_home_region`), as the ad decisions refuse a foreign user, with 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatshop.platform.errors import FeatureNotAvailable, ValidationFailed
from chatshop.platform.rollout import Rollout, UnknownCountry

__all__ = [
    "PURPOSES",
    "ConsentChange",
    "ConsentRecord",
    "ConsentState",
    "Consents",
    "USER_KEY_PATTERN",
    "check_user_key",
    "require_home_region",
]

# Consent to personalised ads is Shop Ads' data: a foreign country is refused as its decisions do.
FEATURE = "shop_ads"

# A user key a client chose: long enough to be unguessable, short enough for a URL and a key.
USER_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"

Purpose = Literal["personalised_ads"]
PURPOSES: tuple[Purpose, ...] = ("personalised_ads",)
ConsentState = Literal["given", "withdrawn", "objected"]
# Where the user made the choice: a client's consent screen, the shop's chat, or a support agent.
ConsentSource = Literal["marketplace_web", "marketplace_app", "whatsapp", "support"]
Wording = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        pattern=r"\S",
        description="The words the user was shown and answered, as shown (the proof of what was agreed).",
    ),
]
UserKey = Annotated[str, Field(pattern=USER_KEY_PATTERN)]


class ConsentChange(BaseModel):
    """A user's choice about one purpose."""

    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    state: ConsentState = Field(
        description="given: consent; withdrawn: consent taken back; objected: an objection to profiling "
        "(GDPR Art. 21), with the same effect as a withdrawal."
    )
    wording: Wording
    source: ConsentSource
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = Field(
        description="The user's country (ISO 3166-1 alpha-2): a consent is kept only in its home "
        "region, and another region refuses it with 403."
    )
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")] | None = None


class ConsentRecord(BaseModel):
    purpose: Purpose
    state: Literal["given", "withdrawn", "objected", "not_given"]
    recorded_at: datetime | None = None
    wording: str | None = None
    source: ConsentSource | None = None
    country: str | None = None
    language: str | None = None


class Consents(BaseModel):
    """A user's consent for every purpose (``not_given`` where they never chose), and their log."""

    user_key: UserKey
    consents: list[ConsentRecord]
    history: list[ConsentRecord] = Field(description="The latest changes first (at most 50).")


def require_home_region(rollout: Rollout, country: str, region: str) -> None:
    """FeatureNotAvailable (403) unless ``country``'s data is kept in ``region``. Only the home
    region counts, not whether ads are live there yet: a withdrawal must always be possible at home."""
    try:
        home = rollout.home_region(country)
    except UnknownCountry:
        home = None
    if home != region:
        raise FeatureNotAvailable(FEATURE, country)


def check_user_key(user_key: str) -> str:
    import re

    if not re.fullmatch(USER_KEY_PATTERN, user_key):
        raise ValidationFailed(
            ["user_key"],
            "user_key is 16 to 64 letters, digits, '-' or '_' (a pseudonymous key, never a name).",
        )
    return user_key
