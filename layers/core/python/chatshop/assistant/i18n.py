"""The assistant's words in the customer's language, with money and numbers formatted for the locale.

The catalogs are the ``.po`` files under ``locales/``, read with Babel at first use: there is no
compiled ``.mo`` step, so the Lambda layer ships the same files that translators edit and needs no
build step. English is the source language: its text is the message id, so an English translator
has no catalog and a message missing from another catalog is said in English rather than not at
all.

Babel is imported when a catalog or a locale is first needed, never at import time: this module is
imported by the light inbound function, whose cold start matters.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from chatshop.platform.iso import CURRENCY_EXPONENTS

if TYPE_CHECKING:
    from babel import Locale

LANGUAGES = ("en", "es", "pt_BR", "hi")
SOURCE_LANGUAGE = "en"
DOMAIN = "assistant"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"

# Every way a client, a browser or a person writes one of LANGUAGES, lower-cased with "_" for "-";
# a bare "pt" is Brazilian Portuguese, the only Portuguese the assistant speaks.
_BASE_LANGUAGE = {"en": "en", "es": "es", "pt": "pt_BR", "hi": "hi"}

# Countries whose shops speak Spanish when they set no language: where Spanish is the official or
# the everyday language of commerce (the US is not among them: its shops default to English).
_SPANISH_COUNTRIES = frozenset(
    "AR BO CL CO CR CU DO EC ES GQ GT HN MX NI PA PE PR PY SV UY VE".split()  # noqa: SIM905
)
_PORTUGUESE_COUNTRIES = frozenset({"BR", "PT"})

# The Babel locale of a language when the shop's country gives none Babel knows.
_DEFAULT_LOCALE = {"en": "en_US", "es": "es", "pt_BR": "pt_BR", "hi": "hi_IN"}


def supported(code: str | None) -> str | None:
    """One of :data:`LANGUAGES` for a language tag as people and clients write it ("pt-BR", "pt",
    "pt_br", "es-MX", "EN", "hi-IN"), or None for a language the assistant does not speak.

    The region only tells the variant apart where the assistant has one per language: "es-MX" and
    "es-ES" are both "es", "pt-PT" is "pt_BR" (the assistant's only Portuguese)."""
    if not code:
        return None
    parts = code.strip().replace("-", "_").lower().split("_")
    return _BASE_LANGUAGE.get(parts[0])


def default_language(country: str) -> str:
    """The language a shop speaks when it set none, from its country (ISO 3166-1 alpha-2).

    Spanish for the Spanish-speaking countries of Latin America, the Caribbean and Spain;
    Brazilian Portuguese for Brazil and Portugal (the assistant speaks one Portuguese); English
    everywhere else. India is English on purpose: it is the common language of commerce chat there
    across the country's many languages, and a customer who writes in Hindi is answered in Hindi
    (see :func:`chatshop.assistant.language.detect`), so nobody is pushed into Hindi who did not
    choose it."""
    country = country.strip().upper()
    if country in _SPANISH_COUNTRIES:
        return "es"
    if country in _PORTUGUESE_COUNTRIES:
        return "pt_BR"
    return "en"


@cache
def _catalog(language: str) -> dict[str, str]:
    if language == SOURCE_LANGUAGE:
        return {}
    return read_catalog(LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", language)


def read_catalog(path: Path, language: str) -> dict[str, str]:
    """A ``.po`` file's translations by message id; fuzzy and untranslated entries are left out, so
    the English id is said in their place until a translator has confirmed them."""
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        catalog = read_po(file, locale=language, domain=DOMAIN)
    translations: dict[str, str] = {}
    for message in catalog:
        # Plural entries have a tuple id; the assistant's messages have none (yet), and a singular
        # lookup must never return one of their forms.
        if not message.id or message.fuzzy or not isinstance(message.id, str):
            continue
        if isinstance(message.string, str) and message.string:
            translations[message.id] = message.string
    return translations


def _locale_name(language: str, country: str | None) -> str:
    from babel import localedata

    if country:
        name = f"{language.split('_')[0]}_{country.strip().upper()}"
        if localedata.exists(name):
            return name
    return _DEFAULT_LOCALE[language]


class Translator:
    """The assistant's voice in one language, for one shop's country (which picks how money and
    numbers are written: "$19.99" in Mexico, "₹1,25,000.00" in India)."""

    def __init__(self, language: str, country: str | None = None) -> None:
        code = supported(language)
        if code is None:
            raise ValueError(f"the assistant does not speak {language!r}; it speaks {', '.join(LANGUAGES)}")
        self.language = code
        self.country = country.strip().upper() if country else None
        self._locale_id = _locale_name(code, self.country)
        self._locale: Locale | None = None

    def __repr__(self) -> str:
        return f"Translator({self.language!r}, {self.country!r})"

    @property
    def locale(self) -> Locale:
        """The Babel locale that formats money and numbers, e.g. ``es_MX`` for a Mexican shop."""
        if self._locale is None:
            from babel import Locale

            self._locale = Locale.parse(self._locale_id)
        return self._locale

    def text(self, message: str, **params: object) -> str:
        """The message in this language, its ``{name}`` placeholders filled after the lookup (a
        translator may reorder them); English for a message the catalog does not have yet."""
        return _catalog(self.language).get(message, message).format_map(params)

    def money(self, amount_minor: int, currency: str) -> str:
        """An amount in the currency's minor units as the locale writes it: 4990 BRL in pt_BR is
        "R$ 49,90" (with a no-break space), 1999 USD in en is "$19.99"."""
        from babel.numbers import format_currency

        exponent = CURRENCY_EXPONENTS.get(currency)
        if exponent is None:
            raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
        return format_currency(Decimal(amount_minor).scaleb(-exponent), currency, locale=self.locale)

    def number(self, n: int | float | Decimal) -> str:
        """A number with the locale's grouping and decimal signs: 125000 is "1,25,000" in hi_IN."""
        from babel.numbers import format_decimal

        return format_decimal(n, locale=self.locale)


@lru_cache(maxsize=64)
def translator(language: str, country: str | None = None) -> Translator:
    """The :class:`Translator` for a language (anything :func:`supported` accepts) and a shop's
    country, made once per pair and kept: a warm function reuses it for every message.

    Raises ValueError for a language the assistant does not speak; pass
    ``supported(code) or default_language(country)`` where the code comes from outside."""
    return Translator(language, country)
