"""Regional rollout gates: which features are live in which countries, served from which region.

The truth is ``infra/rollout.yaml`` (the core layer carries it as ``chatshop/platform/rollout.yaml``,
a symlink). Features are evaluated with powertools FeatureFlags over an in-memory store built from
that file (one rule per feature: context key ``country`` IN the listed countries), so moving the
flags to AppConfig later is a change of store, not of callers. Data residency (a country is
served only by its home region) is checked here, outside the flags.

A feature can be live for a share of a country's shops (``shops_percent``): a shop's bucket is a
stable hash of its id modulo 100 and the flag's ``MODULO_RANGE`` rule lets buckets ``0..p-1``
through, so raising the share only ever adds shops, and a shop never flips back and forth.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chatshop.platform.config import REGION_PATTERN, ConfigurationError, Settings, load_settings
from chatshop.platform.errors import FeatureNotAvailable
from chatshop.platform.iso import ISO_3166_ALPHA2

__all__ = [
    "ISO_3166_ALPHA2",
    "PACKAGED_ROLLOUT",
    "Rollout",
    "RolloutConfigError",
    "UnknownCountry",
    "UnknownFeature",
    "load_rollout",
    "shop_bucket",
]

PACKAGED_ROLLOUT = Path(__file__).with_name("rollout.yaml")

_FEATURE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGION = re.compile(REGION_PATTERN)
_FEATURE_KEYS = frozenset({"countries", "description", "shops_percent"})
_BUCKETS = 100
_REGION_KEYS = frozenset({"countries"})


class RolloutConfigError(ConfigurationError):
    """The rollout file is missing or inconsistent; lists every problem found."""


class UnknownFeature(LookupError):
    """A feature name the rollout does not know (a typo in code, not a client error)."""


class UnknownCountry(LookupError):
    """A country no region serves."""


def _feature_flags(configuration: dict[str, Any]) -> Any:
    """powertools FeatureFlags over a schema already in memory.

    Imported here, not at the top: powertools' feature flags pull in its AppConfig provider and
    boto3 (~140 ms), which a function pays on cold start only when it evaluates a rollout.
    """
    from aws_lambda_powertools.utilities.feature_flags import FeatureFlags
    from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider

    class InMemoryStore(StoreProvider):
        def __init__(self, configuration: dict[str, Any]) -> None:
            self._configuration = configuration

        @property
        def get_raw_configuration(self) -> dict[str, Any]:
            return self._configuration

        def get_configuration(self) -> dict[str, Any]:
            # The same object every time: FeatureFlags then validates the schema only once.
            return self._configuration

    return FeatureFlags(store=InMemoryStore(configuration))


class Rollout:
    """Features x countries x home regions, validated."""

    def __init__(
        self,
        regions: Mapping[str, Iterable[str]],
        features: Mapping[str, Iterable[str]],
        *,
        shops_percent: Mapping[str, Mapping[str, int]] | None = None,
        source: str = "<memory>",
    ) -> None:
        self.source = source
        self._regions = {region: frozenset(countries) for region, countries in regions.items()}
        self._features = {name: frozenset(countries) for name, countries in features.items()}
        self._percent = {name: dict(shares) for name, shares in (shops_percent or {}).items() if shares}
        self._home: dict[str, str] = {}
        problems = self._index_and_check()
        if problems:
            raise RolloutConfigError(f"{source}: invalid rollout:\n  - " + "\n  - ".join(problems))
        self._flags = _feature_flags(_flag_schema(self._features, self._percent))
        # Let powertools validate the schema now rather than on the first request.
        self._flags.get_configuration()

    @classmethod
    def from_document(cls, document: Any, *, source: str = "<memory>") -> Rollout:
        """Build from the parsed YAML shape ``{regions: {r: {countries}}, features: {f: {countries}}}``."""
        problems: list[str] = []
        if not isinstance(document, Mapping):
            raise RolloutConfigError(f"{source}: expected a mapping with 'regions' and 'features'")
        unknown = set(document) - {"regions", "features"}
        if unknown:
            problems.append(f"unknown top-level keys: {', '.join(sorted(map(str, unknown)))}")
        regions = _section(document, "regions", _REGION_KEYS, problems)
        features = _section(document, "features", _FEATURE_KEYS, problems)
        percent = _shares(document.get("features"), problems)
        if problems:
            raise RolloutConfigError(f"{source}: invalid rollout:\n  - " + "\n  - ".join(problems))
        return cls(regions, features, shops_percent=percent, source=source)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Rollout:
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RolloutConfigError(f"{path}: cannot read the rollout file ({exc.strerror})") from None
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RolloutConfigError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_document(document, source=str(path))

    # --- queries ---

    @property
    def features(self) -> frozenset[str]:
        return frozenset(self._features)

    @property
    def regions(self) -> frozenset[str]:
        return frozenset(self._regions)

    def home_region(self, country: str) -> str:
        """The region that holds ``country``'s data; UnknownCountry if no region serves it."""
        code = _normalise(country)
        try:
            return self._home[code]
        except KeyError:
            raise UnknownCountry(f"no region serves country {code!r}") from None

    def countries_in(self, region: str) -> frozenset[str]:
        """The countries whose home is ``region`` (empty for a region that serves none)."""
        return self._regions.get(region, frozenset())

    def live_countries(self, feature: str) -> frozenset[str]:
        """The countries where ``feature`` is live for some or all of their shops."""
        self._check_feature(feature)
        return self._features[feature]

    def shops_percent(self, feature: str, country: str) -> int:
        """The share of ``country``'s shops ``feature`` is live for: 100, a partial share, or 0."""
        self._check_feature(feature)
        code = _normalise(country)
        if code not in self._features[feature]:
            return 0
        return self._percent.get(feature, {}).get(code, 100)

    def is_live(
        self, feature: str, country: str, region: str | None = None, *, shop_id: str | None = None
    ) -> bool:
        """Whether ``feature`` is on for ``country`` (and ``shop_id``, where only some of the country's
        shops have it) and, given ``region``, served from there.

        Where a feature is live for only a share of a country's shops, a question about the country
        without a shop is answered no: nothing is offered to a shop the rollout has not reached.
        """
        self._check_feature(feature)
        code = _normalise(country)
        if region is not None and self._home.get(code) != region:
            return False
        context: dict[str, Any] = {"country": code}
        if shop_id is not None:
            context["shop_bucket"] = shop_bucket(shop_id)
        return bool(self._flags.evaluate(name=feature, context=context, default=False))

    def require_live(
        self, feature: str, country: str, region: str | None = None, *, shop_id: str | None = None
    ) -> None:
        """Raise FeatureNotAvailable (403) unless :meth:`is_live`."""
        if not self.is_live(feature, country, region, shop_id=shop_id):
            code = _normalise(country)
            raise FeatureNotAvailable(feature, code if code in ISO_3166_ALPHA2 else "unknown")

    # --- internals ---

    def _check_feature(self, feature: str) -> None:
        if feature not in self._features:
            raise UnknownFeature(f"{feature!r} is not a feature of {self.source}")

    def _index_and_check(self) -> list[str]:
        problems: list[str] = []
        for region, countries in self._regions.items():
            if not _REGION.match(region):
                problems.append(f"regions: {region!r} is not an AWS region name")
            for country in sorted(countries):
                if country not in ISO_3166_ALPHA2:
                    problems.append(f"regions.{region}: {country!r} is not an ISO 3166-1 alpha-2 code")
                elif country in self._home:
                    problems.append(f"country {country} is in two regions: {self._home[country]}, {region}")
                else:
                    self._home[country] = region
        for name, shares in self._percent.items():
            for country, share in sorted(shares.items()):
                if country not in self._features.get(name, ()):
                    problems.append(f"features.{name}.shops_percent: {country} is not in its countries")
                if not isinstance(share, int) or isinstance(share, bool) or not 1 <= share <= 99:
                    problems.append(
                        f"features.{name}.shops_percent.{country}: {share!r} must be a whole number "
                        "from 1 to 99 (all shops: leave the country out of shops_percent)"
                    )
        for name, countries in self._features.items():
            if not _FEATURE_NAME.match(name):
                problems.append(f"features: {name!r} is not a snake_case feature name")
            for country in sorted(countries):
                if country not in ISO_3166_ALPHA2:
                    problems.append(f"features.{name}: {country!r} is not an ISO 3166-1 alpha-2 code")
                elif country not in self._home:
                    problems.append(f"features.{name}: {country} has no home region (add it under regions)")
        return problems


def shop_bucket(shop_id: str) -> int:
    """A shop's place in a percentage rollout, 0-99: the same on every machine and every run."""
    digest = hashlib.sha256(shop_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


def _normalise(country: str) -> str:
    return country.strip().upper() if isinstance(country, str) else ""


def _section(
    document: Mapping[Any, Any], key: str, allowed: frozenset[str], problems: list[str]
) -> dict[str, list[str]]:
    section = document.get(key)
    if not isinstance(section, Mapping) or not section:
        problems.append(f"'{key}' must be a non-empty mapping")
        return {}
    out: dict[str, list[str]] = {}
    for name, entry in section.items():
        where = f"{key}.{name}"
        if not isinstance(name, str):
            problems.append(f"{key}: {name!r} must be a string (quote it)")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping with 'countries'")
            continue
        unknown = set(entry) - allowed
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        countries = entry.get("countries")
        if not isinstance(countries, list):
            problems.append(f"{where}.countries must be a list of country codes")
            continue
        codes: list[str] = []
        for country in countries:
            if isinstance(country, bool):
                # YAML 1.1 reads NO (Norway) as false: the classic trap.
                problems.append(f"{where}.countries: got the boolean {country}; quote codes like 'NO'")
            elif not isinstance(country, str):
                problems.append(f"{where}.countries: {country!r} is not a country code")
            elif country in codes:
                problems.append(f"{where}.countries: {country} is listed twice")
            else:
                codes.append(country)
        out[name] = codes
    return out


def _shares(features: Any, problems: list[str]) -> dict[str, dict[str, int]]:
    """Each feature's ``shops_percent`` mapping (country -> share); malformed ones are problems."""
    out: dict[str, dict[str, int]] = {}
    if not isinstance(features, Mapping):
        return out
    for name, entry in features.items():
        if not isinstance(entry, Mapping) or "shops_percent" not in entry:
            continue
        shares = entry["shops_percent"]
        if not isinstance(shares, Mapping):
            problems.append(f"features.{name}.shops_percent must map country codes to a share (1-99)")
            continue
        out[str(name)] = {str(country): share for country, share in shares.items()}
    return out


def _flag_schema(
    features: Mapping[str, frozenset[str]], percent: Mapping[str, Mapping[str, int]]
) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    for name, countries in features.items():
        flag: dict[str, Any] = {"default": False}
        shares = percent.get(name, {})
        whole = sorted(countries - set(shares))
        rules: dict[str, Any] = {}
        if whole:
            rules["listed countries"] = {
                "when_match": True,
                "conditions": [{"action": "IN", "key": "country", "value": whole}],
            }
        for country, share in sorted(shares.items()):
            rules[f"{share}% of the shops in {country}"] = {
                "when_match": True,
                "conditions": [
                    {"action": "EQUALS", "key": "country", "value": country},
                    {
                        "action": "MODULO_RANGE",
                        "key": "shop_bucket",
                        "value": {"BASE": _BUCKETS, "START": 0, "END": share - 1},
                    },
                ],
            }
        if rules:
            flag["rules"] = rules
        schema[name] = flag
    return schema


_cache: dict[Path, tuple[tuple[int, int], Rollout]] = {}
_lock = threading.Lock()


def load_rollout(path: str | os.PathLike[str] | None = None, settings: Settings | None = None) -> Rollout:
    """The Rollout at ``path`` (default: ``settings.rollout_file``, else the packaged copy).

    Cached per resolved path; a changed file (mtime or size) is read again, so a local stack
    picks up edits without a restart.
    """
    if path is None:
        if settings is None:
            settings = load_settings()
        path = settings.rollout_file or PACKAGED_ROLLOUT
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise RolloutConfigError(f"{path}: cannot read the rollout file ({exc.strerror})") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(resolved)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rollout = Rollout.from_yaml(resolved)
    with _lock:
        _cache[resolved] = (stamp, rollout)
    return rollout
