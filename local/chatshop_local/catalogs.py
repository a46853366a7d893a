"""Keeps the assistant's message catalogs in step with the sentences marked ``N_`` in its code.

    python -m chatshop_local.catalogs extract   # locales/assistant.pot from the N_ marks
    python -m chatshop_local.catalogs update    # every language's .po from the .pot (new ones empty)
    python -m chatshop_local.catalogs check     # exit 1 when a message is missing, stale or too long

The ``.pot`` names each message's constants and, for the ones Meta shows in a button or a list,
the most characters it may have, so a translator sees the limit next to the sentence. Locations
are written without line numbers: an edit above a message does not touch every catalog.
"""

from __future__ import annotations

import argparse
import ast
import io
import string
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

import chatshop
from chatshop.assistant import i18n

ASSISTANT_DIR = i18n.LOCALES_DIR.parent
LOCALES_DIR = i18n.LOCALES_DIR
# The assistant's own sentences, and those the orders context tells customers of their orders.
SOURCE_DIRS = (ASSISTANT_DIR, ASSISTANT_DIR.parent / "orders")
KEYWORDS = {"N_": None}
TRANSLATOR_TAG = "TRANSLATORS:"
WIDTH = 100
_HEADER = {
    "project": "chatshop",
    "version": chatshop.__version__,
    "copyright_holder": "chatshop",
    "msgid_bugs_address": "the chatshop maintainers",
    "last_translator": "the chatshop maintainers",
}
_TEAMS = {"es": "Spanish (Latin America)", "pt_BR": "Portuguese (Brazil)", "hi": "Hindi"}

# Meta's limits on what WhatsApp shows in interactive messages, by the constant's name: reply button
# titles and a list's button label 20 characters, list section and row titles 24, row descriptions 72.
BUTTON_TITLE = 20
ROW_TITLE = 24
ROW_DESCRIPTION = 72
_LIMITS_BY_NAME = {"OTHER_CATEGORY": ROW_TITLE, "CATEGORY_ROW": ROW_DESCRIPTION}
_LIMITS_BY_PREFIX = {"BUTTON_": BUTTON_TITLE}
_LIMITS_BY_SUFFIX = {
    "_BUTTON": BUTTON_TITLE,
    "_SECTION": ROW_TITLE,
    "_ROW_TITLE": ROW_TITLE,
    "_ROW_DESCRIPTION": ROW_DESCRIPTION,
}
# A placeholder in a limited message counts as this many characters once filled ("In stock: 1,234").
PLACEHOLDER_WIDTH = 6


def limit_of(name: str) -> int | None:
    """The most characters Meta shows for the constant ``name``, or None where it sets no limit."""
    if name in _LIMITS_BY_NAME:
        return _LIMITS_BY_NAME[name]
    for prefix, limit in _LIMITS_BY_PREFIX.items():
        if name.startswith(prefix):
            return limit
    for suffix, limit in _LIMITS_BY_SUFFIX.items():
        if name.endswith(suffix):
            return limit
    return None


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` fields of a message, as str.format_map reads them."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def shown_length(text: str) -> int:
    """The characters a customer sees once the placeholders are filled."""
    filled = "".join(
        literal + ("x" * PLACEHOLDER_WIDTH if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(text)
    )
    return len(filled)


@dataclass
class SourceMessage:
    id: str
    locations: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def limit(self) -> int | None:
        limits = [limit for name in self.names if (limit := limit_of(name)) is not None]
        return min(limits) if limits else None


def _constant_names(path: Path) -> dict[str, list[str]]:
    """The names a module gives its marked messages (``BUTTON_MENU = N_("Menu")``), by message."""
    names: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or not isinstance(node.value, ast.Call):
            continue
        call = node.value
        if not (isinstance(call.func, ast.Name) and call.func.id in KEYWORDS and call.args):
            continue
        if not (isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.setdefault(call.args[0].value, []).append(target.id)
    return names


def source_messages(directory: Path | None = None) -> list[SourceMessage]:
    """Every message marked ``N_`` under ``directory`` (by default each of SOURCE_DIRS), in source
    order, as Babel extracts them."""
    messages: dict[str, SourceMessage] = {}
    for source in SOURCE_DIRS if directory is None else (directory,):
        _extract_into(messages, source)
    return list(messages.values())


def _extract_into(messages: dict[str, SourceMessage], directory: Path) -> None:
    names_by_file: dict[str, dict[str, list[str]]] = {}
    extracted = extract_from_dir(
        directory,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=(TRANSLATOR_TAG,),
        strip_comment_tags=True,
    )
    for filename, _lineno, text, comments, context in extracted:
        if not isinstance(text, str) or context is not None:
            raise ValueError(f"{filename}: the assistant marks single messages without context, not {text!r}")
        path = directory / filename
        # Relative to the core layer, as "chatshop/assistant/phrases.py".
        location = path.relative_to(directory.parent.parent).as_posix()
        if filename not in names_by_file:
            names_by_file[filename] = _constant_names(path)
        message = messages.setdefault(text, SourceMessage(text))
        if location not in message.locations:
            message.locations.append(location)
        for name in names_by_file[filename].get(text, []):
            if name not in message.names:
                message.names.append(name)
        message.comments.extend(comment for comment in comments if comment not in message.comments)


def _auto_comments(message: SourceMessage) -> list[str]:
    comments = list(message.comments)
    if message.names:
        comments.append(", ".join(message.names))
    if message.limit is not None:
        comments.append(f"At most {message.limit} characters (WhatsApp's limit).")
    return comments


def template(messages: Iterable[SourceMessage]) -> Catalog:
    catalog = Catalog(
        domain=i18n.DOMAIN,
        header_comment="# The assistant's sentences, extracted from the N_ marks in chatshop/assistant.\n#",
        language_team="chatshop",
        fuzzy=False,
        **_HEADER,
    )
    for message in messages:
        catalog.add(
            message.id,
            locations=[(location, None) for location in message.locations],
            auto_comments=_auto_comments(message),
            flags=["python-brace-format"] if placeholders(message.id) else [],
        )
    return catalog


def template_path(locales: Path = LOCALES_DIR) -> Path:
    return locales / f"{i18n.DOMAIN}.pot"


def po_path(language: str, locales: Path = LOCALES_DIR) -> Path:
    return locales / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def _team(language: str) -> str:
    return _TEAMS.get(language, language)


def _translated_languages() -> list[str]:
    return [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=language, domain=i18n.DOMAIN)


def _write(path: Path, catalog: Catalog) -> bool:
    """Writes the catalog where its text changed; False where the file already said the same."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, ignore_obsolete=True, include_lineno=False)
    content = buffer.getvalue()
    if path.exists() and _without_dates(path.read_bytes()) == _without_dates(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def _without_dates(content: bytes) -> bytes:
    # The creation and revision dates change on every run; a catalog whose messages did not change
    # is left as it was, so the tool leaves no noise in the history.
    return b"\n".join(
        line
        for line in content.splitlines()
        if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))
    )


def extract(source: Path | None = None, locales: Path = LOCALES_DIR) -> Path:
    path = template_path(locales)
    _write(path, template(source_messages(source)))
    return path


def update(locales: Path = LOCALES_DIR) -> list[str]:
    """Brings every language's catalog in step with the template; returns the messages each one
    still lacks (new ones, or ones Babel matched to an old sentence and marked fuzzy)."""
    pot = _read(template_path(locales))
    lacking: list[str] = []
    for language in _translated_languages():
        path = po_path(language, locales)
        if path.exists():
            catalog = _read(path, language)
            catalog.update(pot, update_creation_date=False)
        else:
            catalog = Catalog(
                locale=language,
                domain=i18n.DOMAIN,
                header_comment=f"# The chatshop assistant's sentences in {_team(language)}.\n#",
                fuzzy=False,
                **_HEADER,
            )
            catalog.update(pot)
        catalog.language_team = _team(language)
        # Only written where a message changed, so the date says when that was.
        catalog.revision_date = datetime.now(UTC)
        _write(path, catalog)
        lacking.extend(f"{language}: {message.id!r}" for message in catalog if _untranslated(message))
    return lacking


def _untranslated(message) -> bool:
    return bool(message.id) and (message.fuzzy or not message.string)


def problems(source: Path | None = None, locales: Path = LOCALES_DIR) -> Iterator[str]:
    """Everything that keeps the catalogs from matching the source, one line each."""
    messages = source_messages(source)
    by_id = {message.id: message for message in messages}
    pot_path = template_path(locales)
    pot = {message.id for message in _read(pot_path) if message.id} if pot_path.exists() else set()
    if pot != set(by_id):
        yield f"{pot_path.name} is not the source's: run `python -m chatshop_local.catalogs extract`"
    for language in _translated_languages():
        path = po_path(language, locales)
        if not path.exists():
            yield f"{language}: no catalog at {path}"
            continue
        catalog = _read(path, language)
        translated = {message.id: message for message in catalog if message.id}
        for message in messages:
            entry = translated.get(message.id)
            if entry is None or _untranslated(entry):
                yield f"{language}: {message.id!r} is not translated"
                continue
            if placeholders(entry.string) != placeholders(message.id):
                yield f"{language}: {entry.string!r} has other placeholders than {message.id!r}"
            if message.limit is not None and shown_length(entry.string) > message.limit:
                yield f"{language}: {entry.string!r} is longer than {message.limit} characters"
        for stale in sorted(set(translated) - set(by_id)):
            yield f"{language}: {stale!r} is no longer in the source"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chatshop_local.catalogs", description=__doc__.split("\n")[0]
    )
    parser.add_argument("command", choices=["extract", "update", "check"])
    command = parser.parse_args(argv).command
    if command == "extract":
        print(f"wrote {extract()} ({len(source_messages())} messages)")
        return 0
    if command == "update":
        lacking = update()
        print("\n".join(f"to translate: {line}" for line in lacking) or "every catalog is translated")
        return 0
    found = list(problems())
    print("\n".join(found) or "the catalogs match the source")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
