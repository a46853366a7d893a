"""The assistant's catalogs say every sentence of its code in every language, within WhatsApp's limits,
and its money and numbers are written the way each locale writes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from chatshop.assistant import i18n
from chatshop.assistant.i18n import LANGUAGES, Translator, default_language, supported, translator
from chatshop_local import catalogs
from chatshop_local.catalogs import limit_of, placeholders, shown_length, source_messages

REPO_ROOT = Path(__file__).resolve().parents[3]
LAYER = REPO_ROOT / "layers" / "core" / "python"
ASSISTANT = LAYER / "chatshop" / "assistant"
# The orders context tells customers of their orders' changes in the same catalogs.
ORDERS = LAYER / "chatshop" / "orders"
TRANSLATED = [language for language in LANGUAGES if language != "en"]
NBSP = "\u00a0"


def _source_ids() -> set[str]:
    # Babel's own extractor over the code, as the .pot is made: nothing is listed here by hand.
    return {
        message
        for directory in (ASSISTANT, ORDERS)
        for _, _, message, _, _ in extract_from_dir(
            directory, method_map=[("**.py", "python")], keywords={"N_": None}
        )
    }


SOURCE = _source_ids()


def _catalog(language: str):
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "assistant.po"
    with path.open("rb") as file:
        return read_po(file, locale=language)


def _entries(language: str) -> dict:
    return {message.id: message for message in _catalog(language) if message.id}


def test_the_code_marks_messages_for_the_catalogs():
    # A broken extraction (a wrong keyword, a moved folder) would make every other test vacuous.
    assert len(SOURCE) >= 40
    assert "Welcome to {shop}! How can we help you today?" in SOURCE


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_of_the_code_is_translated_and_confirmed(language):
    entries = _entries(language)

    missing = sorted(message for message in SOURCE if message not in entries)
    fuzzy = sorted(message for message in SOURCE if message in entries and entries[message].fuzzy)
    empty = sorted(message for message in SOURCE if message in entries and not entries[message].string)

    assert missing == [], f"{language} lacks them: run `python -m chatshop_local.catalogs update`"
    assert fuzzy == []
    assert empty == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_catalog_keeps_a_message_the_code_no_longer_has(language):
    catalog = _catalog(language)

    assert sorted(set(_entries(language)) - SOURCE) == []
    assert list(catalog.obsolete) == []


def test_the_template_is_the_code_s():
    with (i18n.LOCALES_DIR / "assistant.pot").open("rb") as file:
        template = read_po(file)

    assert {message.id for message in template if message.id} == SOURCE


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_has_the_placeholders_of_its_message(language):
    entries = _entries(language)

    different = {
        message: entries[message].string
        for message in SOURCE
        if message in entries and placeholders(entries[message].string) != placeholders(message)
    }

    assert different == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_buttons_and_list_rows_fit_whatsapp_s_limits(language):
    # Given every limited message, by the constants that name it in the code
    limited = [message for message in source_messages() if message.limit is not None]
    words = translator(language)

    # When each is said in the language, its placeholders left for shown_length to count
    too_long = {}
    for message in limited:
        said = words.text(message.id, **{name: f"{{{name}}}" for name in placeholders(message.id)})
        if shown_length(said) > message.limit:
            too_long[message.id] = said

    # Then none is longer than Meta shows
    assert limited, "no message of the code is a button or a list row"
    assert too_long == {}


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("BUTTON_BROWSE", 20),
        ("BUTTON_ORDER", 20),
        ("CATEGORIES_BUTTON", 20),
        ("PRODUCTS_BUTTON", 20),
        ("CATEGORIES_SECTION", 24),
        ("PRODUCTS_SECTION", 24),
        ("OTHER_CATEGORY", 24),
        ("MORE_ROW_TITLE", 24),
        ("CATEGORY_ROW", 72),
        ("MORE_ROW_DESCRIPTION", 72),
        ("WELCOME", None),
        ("ROW_DESCRIPTION", None),
    ],
)
def test_the_limit_of_a_message_follows_its_name(name, limit):
    assert limit_of(name) == limit


def test_a_message_shared_by_a_button_and_a_section_keeps_the_tighter_limit():
    categories = next(message for message in source_messages() if message.id == "Categories")

    assert set(categories.names) >= {"CATEGORIES_BUTTON", "CATEGORIES_SECTION"}
    assert categories.limit == 20


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("es", "es"),
        ("es-MX", "es"),
        ("es_419", "es"),
        ("pt", "pt_BR"),
        ("pt-BR", "pt_BR"),
        ("pt_br", "pt_BR"),
        ("pt_BR", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("hi", "hi"),
        ("hi-IN", "hi"),
        (" es ", "es"),
        ("fr", None),
        ("zh-Hant", None),
        ("", None),
        (None, None),
    ],
)
def test_language_tags_come_to_the_assistant_s_languages(code, language):
    assert supported(code) == language


@pytest.mark.parametrize(
    ("country", "language"),
    [("MX", "es"), ("ES", "es"), ("AR", "es"), ("co", "es"), ("BR", "pt_BR"), ("PT", "pt_BR")]
    + [("IN", "en"), ("US", "en"), ("GB", "en"), ("DE", "en"), ("AO", "en")],
)
def test_a_shop_without_a_language_speaks_its_country_s(country, language):
    assert default_language(country) == language


def test_a_message_is_said_in_the_language_with_its_placeholders_filled():
    assert translator("es").text("Welcome to {shop}! How can we help you today?", shop="Tienda Sol") == (
        "¡Te damos la bienvenida a Tienda Sol! ¿En qué podemos ayudarte hoy?"
    )
    assert translator("hi").text("Welcome to {shop}! How can we help you today?", shop="रंग") == (
        "रंग में आपका स्वागत है! आज हम आपकी क्या मदद कर सकते हैं?"
    )


def test_english_is_the_message_itself():
    assert translator("en").text(
        "Hi {name}, welcome to {shop}! How can we help you today?", name="Ana", shop="Sol"
    ) == ("Hi Ana, welcome to Sol! How can we help you today?")


def test_a_message_no_catalog_has_yet_is_said_in_english():
    assert translator("pt_BR").text("A sentence added {when}", when="today") == "A sentence added today"


def test_a_translator_may_put_the_placeholders_in_another_order():
    # Hindi puts the shop before the welcome; the English has it after the name
    said = translator("hi").text(
        "Hi {name}, welcome to {shop}! How can we help you today?", name="अनु", shop="रंग"
    )

    assert said.index("अनु") < said.index("रंग")
    assert said.startswith("नमस्ते अनु, रंग में")


def test_fuzzy_and_untranslated_entries_are_not_said(tmp_path):
    # Given a catalog with one confirmed, one fuzzy and one empty entry
    path = tmp_path / "assistant.po"
    path.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Menu"\nmsgstr "Menú"\n\n'
        '#, fuzzy\nmsgid "Show more"\nmsgstr "Mostrar menos"\n\n'
        'msgid "Products"\nmsgstr ""\n',
        encoding="utf-8",
    )

    # When it is read as the assistant reads its catalogs
    translations = i18n.read_catalog(path, "es")

    # Then only the confirmed one is there: the others are said in English
    assert translations == {"Menu": "Menú"}


@pytest.mark.parametrize(
    ("language", "country", "amount", "currency", "written"),
    [
        ("en", None, 1999, "USD", "$19.99"),
        ("en", "US", 1999, "USD", "$19.99"),
        ("es", "MX", 1999, "MXN", "$19.99"),
        ("es", "MX", 129900, "MXN", "$1,299.00"),
        ("es", "ES", 4990, "EUR", f"49,90{NBSP}€"),
        ("es", "AR", 199950, "ARS", "$1.999,50"),
        ("hi", "IN", 125000, "INR", "₹1,250.00"),
        ("hi", "IN", 12500000, "INR", "₹1,25,000.00"),
        ("en", "IN", 12500000, "INR", "₹1,25,000.00"),
        ("pt_BR", None, 4990, "BRL", f"R${NBSP}49,90"),
        ("pt_BR", "BR", 4990, "BRL", f"R${NBSP}49,90"),
        ("pt_BR", "PT", 4990, "EUR", f"49,90{NBSP}€"),
        ("en", "US", 1500, "JPY", "¥1,500"),
        ("en", "US", 12345, "KWD", "KWD12.345"),
    ],
)
def test_money_is_written_as_the_locale_writes_it(language, country, amount, currency, written):
    assert translator(language, country).money(amount, currency) == written


def test_a_country_babel_has_no_locale_for_gives_the_language_s_own():
    # Hindi has no Brazilian locale: the language's own (India) writes the amount
    assert translator("hi", "BR").money(4990, "BRL") == "R$49.90"
    assert translator("hi", "BR").locale.territory == "IN"
    assert str(translator("es", "MX").locale) == "es_MX"


def test_money_in_an_unknown_currency_is_refused():
    with pytest.raises(ValueError, match="ISO 4217"):
        translator("en").money(100, "XYZ")


@pytest.mark.parametrize(
    ("language", "country", "written"),
    [("en", "US", "125,000"), ("hi", "IN", "1,25,000"), ("pt_BR", "BR", "125.000"), ("es", "MX", "125,000")],
)
def test_numbers_are_grouped_as_the_locale_groups_them(language, country, written):
    assert translator(language, country).number(125000) == written


def test_a_translator_is_made_once_per_language_and_country():
    assert translator("es", "MX") is translator("es", "MX")
    assert translator("es", "MX") is not translator("es", "AR")


def test_a_language_the_assistant_does_not_speak_is_refused():
    with pytest.raises(ValueError, match="does not speak 'fr'"):
        Translator("fr")


def test_importing_the_module_leaves_babel_for_the_first_sentence():
    # The inbound function imports it on its cold start; Babel loads when a catalog is first read.
    program = (
        "import json, sys; import chatshop.assistant.i18n as i18n; before = 'babel' in sys.modules; "
        "i18n.translator('es', 'MX').text('Menu'); print(json.dumps([before, 'babel' in sys.modules]))"
    )
    environment = {**os.environ, "PYTHONPATH": str(LAYER)}

    result = subprocess.run([sys.executable, "-c", program], env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [False, True]


# --- The tool that keeps the catalogs in step (python -m chatshop_local.catalogs) -------------------


def _write_source(source: Path, *lines: str) -> None:
    source.mkdir(parents=True, exist_ok=True)
    (source / "phrases.py").write_text(
        "\n".join(["from chatshop.assistant.phrases import N_", "", *lines, ""]), encoding="utf-8"
    )


def _translate(locales: Path, language: str, translations: dict[str, str]) -> None:
    path = catalogs.po_path(language, locales)
    with path.open("rb") as file:
        catalog = read_po(file, locale=language)
    for message in catalog:
        if message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
    with path.open("wb") as file:
        write_po(file, catalog)


def test_the_tool_brings_new_changed_and_removed_messages_to_every_catalog(tmp_path):
    # Given catalogs made from a source of three messages, Spanish translated
    source, locales = tmp_path / "chatshop" / "assistant", tmp_path / "locales"
    _write_source(source, 'BUTTON_GO = N_("Go")', 'HELLO = N_("Hello {name}")', 'OLD = N_("An old sentence")')
    catalogs.extract(source, locales)
    assert sorted(catalogs.update(locales)) == sorted(
        f"{language}: {message!r}"
        for language in TRANSLATED
        for message in ["Go", "Hello {name}", "An old sentence"]
    )
    _translate(
        locales, "es", {"Go": "Ir", "Hello {name}": "Hola {name}", "An old sentence": "Una frase vieja"}
    )

    # When one message is removed, one changed and one added, and the tool is run again
    _write_source(source, 'BUTTON_GO = N_("Go")', 'HELLO = N_("Hello there {name}")', 'NEW = N_("A new one")')
    catalogs.extract(source, locales)
    catalogs.update(locales)

    # Then Spanish keeps what still holds, offers the old translation of the changed one as fuzzy,
    # and drops the removed one
    with catalogs.po_path("es", locales).open("rb") as file:
        spanish = read_po(file, locale="es")
    entries = {message.id: message for message in spanish if message.id}
    assert set(entries) == {"Go", "Hello there {name}", "A new one"}
    assert (entries["Go"].string, entries["Go"].fuzzy) == ("Ir", False)
    assert (entries["Hello there {name}"].string, entries["Hello there {name}"].fuzzy) == (
        "Hola {name}",
        True,
    )
    assert entries["A new one"].string == ""
    assert list(spanish.obsolete) == []
    # and the check names what is left to do
    found = list(catalogs.problems(source, locales))
    assert "es: 'Hello there {name}' is not translated" in found
    assert "es: 'A new one' is not translated" in found
    assert "es: 'Go' is not translated" not in found


def test_the_tool_s_check_finds_a_translation_too_long_or_with_other_placeholders(tmp_path):
    # Given a translated catalog with a button title past 20 characters and a lost placeholder
    source, locales = tmp_path / "chatshop" / "assistant", tmp_path / "locales"
    _write_source(source, 'BUTTON_GO = N_("Go")', 'HELLO = N_("Hello {name}")')
    catalogs.extract(source, locales)
    catalogs.update(locales)
    for language in TRANSLATED:
        _translate(locales, language, {"Go": "Ir", "Hello {name}": "Hola {name}"})
    _translate(locales, "pt_BR", {"Go": "Ir para a próxima página", "Hello {name}": "Olá {nome}"})

    # When the catalogs are checked
    found = list(catalogs.problems(source, locales))

    # Then both are named, and nothing else
    assert found == [
        "pt_BR: 'Ir para a próxima página' is longer than 20 characters",
        "pt_BR: 'Olá {nome}' has other placeholders than 'Hello {name}'",
    ]


def test_the_template_names_each_message_s_constants_and_limit(tmp_path):
    source, locales = tmp_path / "chatshop" / "assistant", tmp_path / "locales"
    _write_source(source, 'BUTTON_GO = N_("Go")', 'HELLO = N_("Hello {name}")')

    with catalogs.extract(source, locales).open("rb") as file:
        template = {message.id: message for message in read_po(file) if message.id}

    assert template["Go"].auto_comments == ["BUTTON_GO", "At most 20 characters (WhatsApp's limit)."]
    assert template["Go"].locations == [("chatshop/assistant/phrases.py", None)]
    assert template["Hello {name}"].auto_comments == ["HELLO"]
    assert "python-brace-format" in template["Hello {name}"].flags
