"""A merchant's catalog feed in Meta's commerce catalog format (CSV or JSON) as validated products.

Pure: bytes in, ``ProductCreate`` objects and rejections out. A bad row never stops the good ones;
a whole-file problem (encoding, syntax, header) is one ``FeedFormatError`` saying why and where.

Columns, by Meta's names (matched case-insensitively, surrounding spaces stripped):

=============================== ========================= =========================================
feed column                     ProductCreate field       notes
=============================== ========================= =========================================
id                              retailer_id               required; a JSON integer is taken as text
title                           title                     required
price                           price                     required; "129.99 USD" (JSON: also
                                                          {"amount": 12999, "currency": "USD"})
sale_price                      sale_price                same notation as price
description                     description
availability                    availability              any case; "_" reads as a space
condition                       condition                 any case; "_" reads as a space
link, image_link                link, image_link
brand                           brand
additional_image_link           additional_image_links    URLs split on "," ";" "|" or spaces, as
                                                          Meta does (JSON: also a list)
category, product_type,         category                  first non-empty cell in that order
google_product_category
item_group_id                   item_group_id             a JSON integer is taken as text
inventory,                      inventory                 first non-empty cell in that order; a
quantity_to_sell_on_facebook                              whole number (JSON: 3 or "3")
=============================== ========================= =========================================

Other Meta catalog columns (``_IGNORED_COLUMNS``) are accepted and not stored; anything else is a
``FeedFormatError``, so a typo such as ``tittle`` never silently drops data.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from .domain import ProductCreate
from .money import Money, PriceFormatError, parse_price

__all__ = ["MAX_ROWS", "FeedFormatError", "FeedRow", "ParsedFeed", "Rejection", "parse_feed"]

MAX_ROWS = 100_000


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported, and why.

    ``row`` is the 1-based data row (the header is not a row, nor is a blank line); in a CSV feed it
    counts records, so a quoted field that spans lines still makes one row. ``column`` is the feed's
    column name at fault, or None when the whole row is at fault.
    """

    row: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class FeedRow:
    row: int
    product: ProductCreate


@dataclass(frozen=True)
class ParsedFeed:
    rows: list[FeedRow]
    rejected: list[Rejection]


class FeedFormatError(ValueError):
    """The whole feed is unusable; the message says why and, where it can, where."""


def parse_feed(body: bytes, content_type: str, currency: str, *, max_rows: int = MAX_ROWS) -> ParsedFeed:
    """Parse a catalog feed for a shop that sells in ``currency`` (ISO 4217).

    Raises ``FeedFormatError`` for a problem of the whole file; every row-level problem is a
    ``Rejection`` instead, and a rejected row yields no ``FeedRow``.
    """
    kind = _feed_kind(content_type)
    text = _decode(body)
    records = _csv_records(text, max_rows) if kind == "csv" else _json_records(text, max_rows)
    return _validate(records, currency)


# --- columns ----------------------------------------------------------------------------------------

# ProductCreate field -> the feed columns that fill it, in precedence order: per row, the first
# non-empty one wins. For category, chatshop's own name is the most explicit; then the merchant's own
# product_type, which reads well in a chat ("Home > Kitchen > Mugs"); google_product_category last, as
# it is often a bare taxonomy number ("2271"). inventory is Meta's current name for the older
# quantity_to_sell_on_facebook.
_FIELD_SOURCES: dict[str, tuple[str, ...]] = {
    "retailer_id": ("id",),
    "title": ("title",),
    "price": ("price",),
    "sale_price": ("sale_price",),
    "description": ("description",),
    "availability": ("availability",),
    "condition": ("condition",),
    "link": ("link",),
    "image_link": ("image_link",),
    "brand": ("brand",),
    "additional_image_links": ("additional_image_link",),
    "category": ("category", "product_type", "google_product_category"),
    "item_group_id": ("item_group_id",),
    "inventory": ("inventory", "quantity_to_sell_on_facebook"),
}
_STORED_COLUMNS = frozenset(column for sources in _FIELD_SOURCES.values() for column in sources)
_REQUIRED_COLUMNS = ("id", "title", "price")

# Meta catalog columns that chatshop accepts and does not store. A flattened nested column in Meta's
# JSON-path notation (image[0].url, applink.ios_url, video[0].tag[1]) is known by its base name.
_IGNORED_COLUMNS = frozenset(
    {
        # identifiers, variants and attributes
        "gtin", "mpn", "color", "size", "gender", "age_group", "material", "pattern", "style",
        "additional_variant_attribute", "product_tags", "internal_label",
        # text and media
        "rich_text_description", "short_description", "image", "video", "mobile_link",
        # app deep links: the applink.* family and the older flat columns
        "applink", "ios_url", "ios_app_store_id", "ios_app_name", "iphone_url", "iphone_app_store_id",
        "iphone_app_name", "ipad_url", "ipad_app_store_id", "ipad_app_name", "android_url",
        "android_package", "android_class", "android_app_name", "windows_phone_url",
        "windows_phone_app_id", "windows_phone_app_name",
        # pricing, shipping and returns
        "sale_price_effective_date", "unit_price", "offer_price", "offer_price_effective_date",
        "shipping", "shipping_weight", "return_policy_info", "commerce_tax_category",
        "product_length", "product_width", "product_height", "product_weight",
        # status and channels
        "status", "visibility", "expiration_date", "marked_for_product_launch", "disabled_capabilities",
        # Meta's own taxonomy (we keep one category: see _FIELD_SOURCES)
        "fb_product_category",
        # compliance (e.g. WhatsApp commerce in India)
        "origin_country", "importer_name", "importer_address", "manufacturer_info",
        "wa_compliance_category",
    }
    | {f"custom_{kind}_{n}" for kind in ("label", "number") for n in range(5)}
)  # fmt: skip
_KNOWN_COLUMNS = sorted(_STORED_COLUMNS | _IGNORED_COLUMNS)
# What a feed may name (the API's document lists them).
KNOWN_COLUMNS: tuple[str, ...] = tuple(_KNOWN_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = _REQUIRED_COLUMNS
_NESTED_COLUMN = re.compile(r"^(?P<base>[a-z0-9_]+)(?:\[\d+\]|\.)")

_Column = Literal["stored", "ignored", "unknown"]


def _normalise_column(name: str) -> str:
    return name.strip().lower()


def _classify(column: str) -> _Column:
    if column in _STORED_COLUMNS:
        return "stored"
    if column in _IGNORED_COLUMNS:
        return "ignored"
    nested = _NESTED_COLUMN.match(column)
    if nested and nested["base"] in _IGNORED_COLUMNS:
        return "ignored"
    return "unknown"


def _unknown_columns_error(unknown: Mapping[str, str]) -> FeedFormatError:
    """``unknown``: column -> where it was seen (empty for a CSV header)."""
    described = []
    for column, where in unknown.items():
        text = _name(column) + where
        nested = _NESTED_COLUMN.match(column)
        if nested and nested["base"] in _STORED_COLUMNS:
            text += f" (chatshop reads {nested['base']!r} as one plain column)"
        elif len(column) <= _MAX_SHOWN and (
            hint := difflib.get_close_matches(column, _KNOWN_COLUMNS, 1, 0.8)
        ):
            text += f" (did you mean {hint[0]!r}?)"
        described.append(text)
    noun = "column" if len(described) == 1 else "columns"
    return FeedFormatError(f"unknown {noun} {_listing(described)}: not a Meta catalog column chatshop knows")


def _name(column: str) -> str:
    # A header cell can be any text, up to the csv module's field limit: echo a bounded, escaped form.
    return repr(column) if len(column) <= _MAX_SHOWN else repr(column[:_MAX_SHOWN]) + "..."


def _listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _missing_columns_error(present: set[str]) -> FeedFormatError | None:
    missing = [column for column in _REQUIRED_COLUMNS if column not in present]
    if not missing:
        return None
    noun = "column" if len(missing) == 1 else "columns"
    return FeedFormatError(f"missing required {noun}: {', '.join(missing)}")


# --- content type and encoding ----------------------------------------------------------------------

_CSV_TYPES = frozenset({"text/csv", "application/csv"})
_JSON_TYPES = frozenset({"application/json"})
_UTF8 = frozenset({"utf-8", "utf8"})


def _feed_kind(content_type: str) -> Literal["csv", "json"]:
    media_type, _, parameters = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    if media_type in _CSV_TYPES:
        kind: Literal["csv", "json"] = "csv"
    elif media_type in _JSON_TYPES:
        kind = "json"
    else:
        raise FeedFormatError(
            f"unsupported content type {media_type or content_type!r}: send text/csv or application/json"
        )
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in _UTF8:
            raise FeedFormatError(f"unsupported charset {charset!r}: a feed must be UTF-8")
    return kind


def _decode(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start
        line = body.count(b"\n", 0, offset) + 1
        hint = ""
        if body.startswith((b"\xff\xfe", b"\xfe\xff")):
            # Excel's "Unicode Text" export: the most common way a merchant ends up here.
            hint = "; it looks like UTF-16: save the file as CSV UTF-8"
        raise FeedFormatError(
            f"the feed is not valid UTF-8: byte 0x{body[offset]:02x} at byte offset {offset} "
            f"(line {line}){hint}"
        ) from None
    # Excel writes a byte order mark at the start of "CSV UTF-8"; it is not part of the first column name.
    return text.removeprefix("\ufeff")


# --- records: one row's given cells, by feed column, before any validation ------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    row: int
    cells: Mapping[str, Any] = field(default_factory=dict)  # only the stored columns that have a value
    problem: Rejection | None = None  # a structural problem: the row is rejected without a look at cells


def _csv_records(text: str, max_rows: int) -> list[_Record]:
    # newline="" hands line endings to the csv module, so CRLF and a newline inside quotes both work.
    # strict=True: an unterminated quote or text after a closing quote is an error, not a guess.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[tuple[int, str]] | None = None  # (position, column) of the stored columns
    width = 0
    records: list[_Record] = []
    for line, cells in _csv_lines(reader):
        if columns is None:
            # Meta allows metadata comments ("# ref_application_id 123") above the header.
            if _blank(cells) or cells[0].lstrip().startswith("#"):
                continue
            columns, width = _csv_header(cells, line), len(cells)
            continue
        if _blank(cells):
            continue
        row = len(records) + 1
        if row > max_rows:
            raise FeedFormatError(f"the feed has more than {max_rows} rows (line {line} is row {row})")
        if len(cells) > width:
            problem = Rejection(row, None, f"row has {len(cells)} fields; the header has {width}")
            records.append(_Record(row, problem=problem))
            continue
        # A short row's missing fields are empty: not given, like an empty cell.
        given = {column: value for i, column in columns if i < len(cells) and (value := cells[i].strip())}
        records.append(_Record(row, given))
    if columns is None:
        raise FeedFormatError("the feed is empty: a CSV feed needs a header row")
    return records


def _csv_lines(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on; a csv.Error becomes a FeedFormatError naming lines."""
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            where = f"line {reader.line_num}"
            if reader.line_num != start:
                where += f", in the record that starts on line {start}"
            hint = " (a quoted field is never closed)" if "unexpected end of data" in str(error) else ""
            raise FeedFormatError(f"the CSV is malformed at {where}: {error}{hint}") from None
        yield start, cells


def _blank(cells: list[str]) -> bool:
    # A blank line, or a spreadsheet's row of empty cells (",,,,"): not a row at all.
    return all(not cell.strip() for cell in cells)


def _csv_header(cells: list[str], line: int) -> list[tuple[int, str]]:
    names = [_normalise_column(cell) for cell in cells]
    unnamed = [str(i + 1) for i, name in enumerate(names) if not name]
    if unnamed:
        raise FeedFormatError(f"header (line {line}): column {_listing(unnamed)} has no name")
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    if duplicates:
        raise FeedFormatError(
            f"header (line {line}): duplicate column {_listing(list(map(_name, duplicates)))}"
        )
    unknown = {name: "" for name in names if _classify(name) == "unknown"}
    if unknown:
        raise _unknown_columns_error(unknown)
    if missing := _missing_columns_error(set(names)):
        raise missing
    return [(i, name) for i, name in enumerate(names) if name in _STORED_COLUMNS]


class _DuplicateKeys(dict):  # type: ignore[type-arg]
    """A JSON object with a key given twice; json keeps the last silently, we would rather say so."""

    def __init__(self, pairs: list[tuple[str, Any]], duplicates: list[str]) -> None:
        super().__init__(pairs)
        self.duplicates = duplicates


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    return _DuplicateKeys(
        pairs, [key for key, count in Counter(key for key, _ in pairs).items() if count > 1]
    )


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity; JSON itself has no such values.
    raise FeedFormatError(f"the feed is not valid JSON: {name} is not a JSON value")


def _json_records(text: str, max_rows: int) -> list[_Record]:
    try:
        document = json.loads(text, object_pairs_hook=_json_object, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise FeedFormatError(
            f"the feed is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise FeedFormatError("the feed is not usable JSON: it is nested too deeply") from None
    except FeedFormatError:
        raise
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise FeedFormatError(f"the feed is not usable JSON: {error}") from None
    items = _json_items(document)
    if len(items) > max_rows:
        raise FeedFormatError(f"the feed has more than {max_rows} rows ({len(items)})")

    records: list[_Record] = []
    # The union of the objects' keys plays the part of a CSV header: an unknown key, or a required
    # one that no object has, is a problem of the whole feed.
    unknown: dict[str, str] = {}
    present: set[str] = set()
    for row, item in enumerate(items, start=1):
        records.append(_json_record(row, item))
        if isinstance(item, dict):
            for key in item:
                column = _normalise_column(key)
                if column not in present:  # classify each column once, not once per object
                    present.add(column)
                    if _classify(column) == "unknown":
                        unknown[column] = f" (first in row {row})"
    if unknown:
        raise _unknown_columns_error(unknown)
    if present and (missing := _missing_columns_error(present)):
        raise missing
    return records


def _json_items(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    # {"data": [...], "paging": {...}} is the envelope of Meta's Graph API list responses; tools that
    # wrap feeds the same way can send theirs as it is. The objects inside still use feed column names.
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return document["data"]
    got = "an object without a 'data' array" if isinstance(document, dict) else _json_type(document)
    raise FeedFormatError(f'the JSON feed must be an array of products or {{"data": [...]}}; got {got}')


def _json_record(row: int, item: Any) -> _Record:
    if not isinstance(item, dict):
        return _Record(
            row, problem=Rejection(row, None, f"expected a product object; got {_json_type(item)}")
        )
    given: dict[str, Any] = {}
    seen: set[str] = set()
    for key, value in item.items():
        column = _normalise_column(key)
        if column in seen or (isinstance(item, _DuplicateKeys) and key in item.duplicates):
            reason = f"{_name(column)} is given more than once in this object"
            return _Record(row, problem=Rejection(row, column, reason))
        seen.add(column)
        if column in _STORED_COLUMNS and not _empty(value):
            given[column] = value.strip() if isinstance(value, str) else value
    return _Record(row, given)


def _json_type(value: Any) -> str:
    kinds = ((dict, "an object"), (list, "an array"), (str, "a string"), (bool, "a boolean"))
    if value is None:
        return "null"
    return next((name for kind, name in kinds if isinstance(value, kind)), "a number")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- validation -------------------------------------------------------------------------------------


class _CellError(Exception):
    """A cell that cannot become model input; the reason is safe to show the merchant."""


def _identifier(value: Any) -> Any:
    # Merchants' ids are often numeric, and JSON exporters write them as numbers.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _enum_text(value: Any) -> Any:
    # Meta writes "in stock"; exports also say "in_stock" or "In Stock". One spelling for the model.
    return " ".join(value.replace("_", " ").split()).lower() if isinstance(value, str) else value


# Meta's separators for additional_image_link: comma, semicolon, space or vertical bar. None of them
# belongs unescaped in an image URL often enough to be worth a quoting scheme.
_IMAGE_LINK_SEPARATORS = re.compile(r"[,;|\s]+")


def _image_links(value: Any) -> Any:
    if isinstance(value, str):
        return [link for link in _IMAGE_LINK_SEPARATORS.split(value) if link]
    return value


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _inventory(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        if len(value.lstrip("+-")) > 18:  # more stock than anyone holds; and int() has a digit limit
            raise _CellError(f"is too large{_got(value)}")
        return int(value)  # a negative count is the model's to reject, with its own words
    raise _CellError(f"must be a whole number of 0 or more{_got(value)}")


_MAX_PRICE_TEXT = 64  # "129.99 USD" needs a dozen; a longer cell is a mistake, and too long to echo


def _money(value: Any, column: str, currency: str) -> Money:
    """A price cell as Money in the shop's currency."""
    if isinstance(value, str):
        if len(value) > _MAX_PRICE_TEXT:
            raise _CellError("is not a price like '129.99 USD'")
        try:
            money = parse_price(value)
        except PriceFormatError as error:
            raise _CellError(str(error)) from None
    elif isinstance(value, dict) and not isinstance(value, _DuplicateKeys):
        try:
            money = Money.model_validate(value)
        except ValidationError as error:
            raise _CellError(
                'must be like {"amount": 12999, "currency": "USD"}: ' + _first_message(error)
            ) from None
    else:
        raise _CellError(
            f'must be text like \'129.99 USD\' or an object like {{"amount": 12999, "currency": "USD"}}'
            f"{_got(value)}"
        )
    if money.currency != currency:
        raise _CellError(f"{column} is in {money.currency}; the shop sells in {currency}")
    return money


def _as_is(value: Any, column: str, currency: str) -> Any:
    return value


def _plain(convert: Callable[[Any], Any]) -> Callable[[Any, str, str], Any]:
    return lambda value, column, currency: convert(value)


_Convert = Callable[[Any, str, str], Any]  # (cell, column, shop currency) -> model input
_CONVERTERS: dict[str, _Convert] = {
    "retailer_id": _plain(_identifier),
    "item_group_id": _plain(_identifier),
    "availability": _plain(_enum_text),
    "condition": _plain(_enum_text),
    "additional_image_links": _plain(_image_links),
    "inventory": _plain(_inventory),
    "price": _money,
    "sale_price": _money,
}
# Per field: the columns that fill it (precedence order) and how a cell becomes model input. Built
# once, so a row costs a walk over this table and one model_validate.
_PLAN: tuple[tuple[str, tuple[str, ...], _Convert], ...] = tuple(
    (name, columns, _CONVERTERS.get(name, _as_is)) for name, columns in _FIELD_SOURCES.items()
)


def _validate(records: list[_Record], currency: str) -> ParsedFeed:
    rows: list[FeedRow] = []
    rejected: list[Rejection] = []
    first_row_of_id: dict[str, int] = {}
    for record in records:
        if record.problem is not None:
            rejected.append(record.problem)
            continue
        result = _validate_record(record, currency, first_row_of_id)
        if isinstance(result, FeedRow):
            rows.append(result)
        else:
            rejected.extend(result)
    return ParsedFeed(rows, rejected)


def _validate_record(
    record: _Record, currency: str, first_row_of_id: dict[str, int]
) -> FeedRow | list[Rejection]:
    cells = record.cells
    data: dict[str, Any] = {}
    problems: dict[str | None, list[str]] = {}  # column -> reasons, in the order found
    for name, columns, convert in _PLAN:
        for column in columns:
            if column in cells:
                try:
                    data[name] = convert(cells[column], column, currency)
                except _CellError as error:
                    # Left out of data: the model then sees it as missing, which _describe skips.
                    problems.setdefault(column, []).append(str(error))
                break

    _check_duplicate_id(record.row, data.get("retailer_id"), first_row_of_id, problems)

    try:
        product = ProductCreate.model_validate(data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            column, reason = _describe(detail, cells)
            if column in problems and detail["type"] == "missing":
                continue  # a cell we already rejected, not a missing one
            problems.setdefault(column, []).append(reason)
    else:
        if not problems:
            return FeedRow(record.row, product)
    return [Rejection(record.row, column, "; ".join(reasons)) for column, reasons in problems.items()]


def _check_duplicate_id(
    row: int, retailer_id: Any, first_row_of_id: dict[str, int], problems: dict[str | None, list[str]]
) -> None:
    # The first row with an id owns it, whether or not that row is valid: which of two rows is a
    # duplicate must not change when the merchant fixes an unrelated cell.
    if not isinstance(retailer_id, str):
        return
    key = retailer_id.strip()
    first = first_row_of_id.setdefault(key, row)
    if first != row:
        shown = f" {key!r}" if len(key) <= _MAX_SHOWN else ""
        problems.setdefault("id", []).append(f"duplicate id{shown}: row {first} has it already")


def _describe(detail: Mapping[str, Any], cells: Mapping[str, Any]) -> tuple[str | None, str]:
    """A pydantic error as (feed column, reason): the column the field's value came from in this row."""
    loc = detail["loc"]
    if not loc:
        return None, _message(detail)  # a rule about the whole row
    columns = _FIELD_SOURCES.get(str(loc[0]), (str(loc[0]),))
    column = next((c for c in columns if c in cells), columns[0])
    if detail["type"] == "missing":
        return column, f"{column} is required"
    prefix = f"item {loc[1] + 1}: " if len(loc) > 1 and isinstance(loc[1], int) else ""
    return column, prefix + _message(detail) + _got(detail["input"])


def _message(detail: Mapping[str, Any]) -> str:
    return str(detail["msg"]).removeprefix("Value error, ")


def _first_message(error: ValidationError) -> str:
    detail = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in detail["loc"])
    return f"{where}: {_message(detail)}" if where else _message(detail)


_MAX_SHOWN = 60


def _got(value: Any) -> str:
    """`` (got 'x')`` when the value is short enough to echo; repr escapes control characters."""
    if isinstance(value, str):
        return f" (got {value!r})" if len(value) <= _MAX_SHOWN else f" (got {len(value)} characters)"
    text = repr(value)
    return f" (got {text})" if len(text) <= _MAX_SHOWN and not isinstance(value, Money) else ""
