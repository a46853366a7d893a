"""Regional rollout: features x countries x home regions, evaluated through powertools FeatureFlags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chatshop.platform.config import ConfigurationError, Settings
from chatshop.platform.errors import FeatureNotAvailable
from chatshop.platform.rollout import (
    ISO_3166_ALPHA2,
    PACKAGED_ROLLOUT,
    Rollout,
    RolloutConfigError,
    UnknownCountry,
    UnknownFeature,
    load_rollout,
)

REPO = Path(__file__).resolve().parents[3]

GOOD = """
regions:
  us-east-1: {countries: [US, CA]}
  eu-west-1: {countries: [DE, FR]}
features:
  marketplace_shops: {countries: [US]}
  messenger_shops: {countries: [US, DE]}
  dark_launch: {countries: []}
"""


@pytest.fixture
def rollout(tmp_path: Path) -> Rollout:
    path = tmp_path / "rollout.yaml"
    path.write_text(GOOD)
    return load_rollout(path)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rollout.yaml"
    path.write_text(text)
    return path


# --- the packaged rollout -------------------------------------------------------------------------


def test_the_packaged_rollout_is_a_symlink_to_infra_rollout_yaml() -> None:
    assert PACKAGED_ROLLOUT.is_symlink()
    assert os.readlink(PACKAGED_ROLLOUT) == "../../../../../infra/rollout.yaml"
    assert PACKAGED_ROLLOUT.resolve() == REPO / "infra" / "rollout.yaml"


def test_at_launch_marketplace_shops_is_live_in_the_us_only() -> None:
    # Given the rollout every function gets by default
    rollout = load_rollout()

    # Then
    assert rollout.is_live("marketplace_shops", "US")
    assert rollout.is_live("marketplace_shops", "US", region="us-east-1")
    assert not rollout.is_live("marketplace_shops", "DE")
    assert rollout.live_countries("marketplace_shops") == {"US"}
    assert rollout.features >= {"marketplace_shops", "messenger_shops", "visual_search", "shop_ads"}


def test_the_packaged_regions() -> None:
    rollout = load_rollout()

    assert rollout.home_region("US") == "us-east-1"
    assert rollout.home_region("GB") == "eu-west-1"
    assert rollout.home_region("BR") == "sa-east-1"
    assert rollout.countries_in("ap-south-1") == {"IN"}


def test_settings_rollout_file_takes_precedence(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)

    rollout = load_rollout(settings=Settings(rollout_file=path))

    assert rollout.is_live("messenger_shops", "DE")


def test_without_arguments_chatshop_rollout_file_is_read_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATSHOP_ROLLOUT_FILE", str(_write(tmp_path, GOOD)))

    assert load_rollout().is_live("messenger_shops", "DE")


# --- evaluation -----------------------------------------------------------------------------------


def test_a_feature_is_live_only_in_its_listed_countries(rollout: Rollout) -> None:
    assert rollout.is_live("messenger_shops", "DE")
    assert not rollout.is_live("messenger_shops", "FR")
    assert not rollout.is_live("dark_launch", "US")


def test_a_feature_is_live_only_in_the_countrys_home_region(rollout: Rollout) -> None:
    # Data stays in its region: a German request served from us-east-1 is not live there.
    assert rollout.is_live("messenger_shops", "DE", region="eu-west-1")
    assert not rollout.is_live("messenger_shops", "DE", region="us-east-1")
    assert not rollout.is_live("messenger_shops", "US", region="eu-west-1")


def test_country_codes_are_case_insensitive(rollout: Rollout) -> None:
    assert rollout.is_live("marketplace_shops", "us")
    assert rollout.home_region(" de ") == "eu-west-1"


def test_an_unserved_country_is_never_live(rollout: Rollout) -> None:
    assert not rollout.is_live("marketplace_shops", "JP")
    assert not rollout.is_live("marketplace_shops", "not a country")
    with pytest.raises(UnknownCountry):
        rollout.home_region("JP")


def test_countries_in_an_unknown_region_is_empty(rollout: Rollout) -> None:
    assert rollout.countries_in("eu-west-1") == {"DE", "FR"}
    assert rollout.countries_in("ap-southeast-1") == frozenset()


def test_an_unknown_feature_is_a_programming_error(rollout: Rollout) -> None:
    with pytest.raises(UnknownFeature, match="marketplce_shops"):
        rollout.is_live("marketplce_shops", "US")


def test_require_live_raises_feature_not_available_naming_the_country(rollout: Rollout) -> None:
    rollout.require_live("marketplace_shops", "US", region="us-east-1")

    with pytest.raises(FeatureNotAvailable) as caught:
        rollout.require_live("marketplace_shops", "de")

    assert caught.value.status == 403
    assert caught.value.code == "feature_not_available_in_region"
    assert caught.value.country == "DE"
    assert "DE" in caught.value.message


def test_require_live_in_the_wrong_region_is_not_available(rollout: Rollout) -> None:
    with pytest.raises(FeatureNotAvailable):
        rollout.require_live("messenger_shops", "DE", region="us-east-1")


# --- caching --------------------------------------------------------------------------------------


def test_rollouts_are_cached_per_path_and_reread_when_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    first = load_rollout(path)
    assert load_rollout(str(path)) is first

    path.write_text(
        GOOD.replace("marketplace_shops: {countries: [US]}", "marketplace_shops: {countries: [US, CA]}")
    )

    second = load_rollout(path)
    assert second is not first
    assert second.is_live("marketplace_shops", "CA")


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            GOOD.replace("messenger_shops: {countries: [US, DE]}", "messenger_shops: {countries: [US, JP]}"),
            "features.messenger_shops: JP has no home region",
        ),
        (
            GOOD.replace("eu-west-1: {countries: [DE, FR]}", "eu-west-1: {countries: [DE, FR, US]}"),
            "country US is in two regions",
        ),
        (GOOD.replace("[DE, FR]", "[DE, UK]"), "'UK' is not an ISO 3166-1 alpha-2 code"),
        (GOOD.replace("[DE, FR]", "[DE, fr]"), "'fr' is not an ISO 3166-1 alpha-2 code"),
        (GOOD.replace("[DE, FR]", "[DE, NO]"), "quote codes like 'NO'"),
        (GOOD.replace("[DE, FR]", "[DE, DE]"), "DE is listed twice"),
        (GOOD.replace("eu-west-1:", "europe:"), "'europe' is not an AWS region name"),
        (GOOD.replace("dark_launch", "Dark-Launch"), "'Dark-Launch' is not a snake_case feature name"),
        (GOOD.replace("{countries: []}", "{countries: US}"), "features.dark_launch.countries must be a list"),
        (GOOD.replace("{countries: []}", "{countries: [], owner: ads}"), "unknown keys owner"),
        (GOOD + "flags: {}\n", "unknown top-level keys: flags"),
        (GOOD.split("features:")[0], "'features' must be a non-empty mapping"),
        ("just text", "expected a mapping"),
        ("regions: [", "not valid YAML"),
    ],
)
def test_a_bad_rollout_file_is_rejected_with_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(RolloutConfigError) as caught:
        load_rollout(path)

    assert problem in str(caught.value)
    assert str(path) in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("[DE, FR]", "[DE, UK]").replace("[US, DE]", "[US, DE, JP]")

    with pytest.raises(RolloutConfigError) as caught:
        load_rollout(_write(tmp_path, text))

    assert "'UK'" in str(caught.value) and "JP has no home region" in str(caught.value)


def test_a_missing_rollout_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_rollout(tmp_path / "absent.yaml")


def test_the_country_list_is_iso_3166_alpha_2() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert {"US", "GB", "DE", "BR", "IN", "NO"} <= ISO_3166_ALPHA2
    assert not {"UK", "EU", "EL"} & ISO_3166_ALPHA2


# --- a share of a country's shops -----------------------------------------------------------------

GRADUAL = """
regions:
  us-east-1: {countries: [US]}
  ap-south-1: {countries: [IN]}
features:
  messenger_shops:
    countries: [US, IN]
    shops_percent: {IN: %d}
"""

SHOPS = [f"{n:032x}" for n in range(0x5EED, 0x5EED + 400)]


def _gradual(tmp_path: Path, percent: int) -> Rollout:
    return Rollout.from_yaml(_write(tmp_path, GRADUAL % percent))


def test_a_partial_share_reaches_about_that_share_of_the_countrys_shops(tmp_path: Path) -> None:
    rollout = _gradual(tmp_path, 25)

    live = [shop for shop in SHOPS if rollout.is_live("messenger_shops", "IN", shop_id=shop)]

    assert 0.18 < len(live) / len(SHOPS) < 0.32
    assert rollout.shops_percent("messenger_shops", "IN") == 25
    assert rollout.shops_percent("messenger_shops", "US") == 100


def test_a_shop_stays_on_its_side_as_the_share_grows(tmp_path: Path) -> None:
    # Given the shops the rollout reached at each share, from 1 % to 99 %
    reached = [
        {shop for shop in SHOPS if _gradual(tmp_path, percent).is_live("messenger_shops", "IN", shop_id=shop)}
        for percent in (1, 5, 10, 25, 50, 75, 99)
    ]

    # Then every step only adds shops: none that had the feature loses it
    for smaller, larger in zip(reached, reached[1:], strict=False):
        assert smaller <= larger
        assert len(smaller) < len(larger)


def test_the_countrys_other_shops_and_the_country_alone_are_not_live(tmp_path: Path) -> None:
    rollout = _gradual(tmp_path, 50)
    outside = next(shop for shop in SHOPS if not rollout.is_live("messenger_shops", "IN", shop_id=shop))

    with pytest.raises(FeatureNotAvailable):
        rollout.require_live("messenger_shops", "IN", shop_id=outside)
    # Without a shop a partly-live country offers nothing; a fully live one is live.
    assert not rollout.is_live("messenger_shops", "IN")
    assert rollout.is_live("messenger_shops", "US", shop_id=outside)


def test_a_partial_share_is_still_served_only_from_the_home_region(tmp_path: Path) -> None:
    rollout = _gradual(tmp_path, 99)
    inside = next(shop for shop in SHOPS if rollout.is_live("messenger_shops", "IN", shop_id=shop))

    assert rollout.is_live("messenger_shops", "IN", "ap-south-1", shop_id=inside)
    assert not rollout.is_live("messenger_shops", "IN", "us-east-1", shop_id=inside)


@pytest.mark.parametrize(
    ("share", "problem"),
    [
        ("{IN: 0}", "must be a whole number from 1 to 99"),
        ("{IN: 100}", "must be a whole number from 1 to 99"),
        ("{IN: 12.5}", "must be a whole number from 1 to 99"),
        ("{US: 10, JP: 5}", "JP is not in its countries"),
        ("[IN]", "shops_percent must map country codes"),
    ],
)
def test_a_bad_share_is_rejected_with_a_clear_error(tmp_path: Path, share: str, problem: str) -> None:
    text = GRADUAL.replace("{IN: %d}", share)

    with pytest.raises(RolloutConfigError, match=problem):
        Rollout.from_yaml(_write(tmp_path, text))
