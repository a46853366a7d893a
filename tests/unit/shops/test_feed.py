"""Parsing a merchant's catalog feed in Meta's commerce catalog format (CSV and JSON)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatshop.shops.domain import ProductCreate
from chatshop.shops.feed import FeedFormatError, FeedRow, ParsedFeed, Rejection, parse_feed
from chatshop.shops.money import Money

CSV = "text/csv"
JSON = "application/json"


def parse_csv(text: str, currency: str = "USD", **kwargs: Any) -> ParsedFeed:
    return parse_feed(text.encode(), CSV, currency, **kwargs)


def parse_json(document: Any, currency: str = "USD", **kwargs: Any) -> ParsedFeed:
    return parse_feed(json.dumps(document).encode(), JSON, currency, **kwargs)


def usd(amount: int) -> Money:
    return Money(amount=amount, currency="USD")


def product(row: Any = None, **fields: Any) -> dict[str, Any]:
    """A minimal valid JSON feed object, with ``fields`` on top."""
    return {"id": "SKU-1", "title": "Mug", "price": "12.50 USD", **fields}


def rejection(parsed: ParsedFeed) -> Rejection:
    assert parsed.rows == []
    assert len(parsed.rejected) == 1, parsed.rejected
    return parsed.rejected[0]


def single_product(parsed: ParsedFeed) -> ProductCreate:
    assert parsed.rejected == []
    assert len(parsed.rows) == 1
    return parsed.rows[0].product


# --- a good feed ------------------------------------------------------------------------------------

GOOD_CSV = (
    "\ufeffid,title,description,availability,condition,price,sale_price,link,image_link,brand,"
    "additional_image_link,product_type,item_group_id,inventory\r\n"
    'SKU-1,"Mug, blue","Holds 350 ml.\r\nDishwasher safe, ""really""",in stock,new,12.50 USD,9.99 USD,'
    "https://shop.example/mug,https://cdn.example/mug.jpg,Acme,"
    '"https://cdn.example/mug-2.jpg,https://cdn.example/mug-3.jpg",Home > Kitchen,MUGS,7\r\n'
    "SKU-2,Plate,,out of stock,used,5.00 USD,,,,,,,,\r\n"
)

EXPECTED = [
    ProductCreate(
        retailer_id="SKU-1",
        title="Mug, blue",
        description='Holds 350 ml.\r\nDishwasher safe, "really"',
        availability="in stock",
        condition="new",
        price=usd(1250),
        sale_price=usd(999),
        link="https://shop.example/mug",
        image_link="https://cdn.example/mug.jpg",
        brand="Acme",
        additional_image_links=["https://cdn.example/mug-2.jpg", "https://cdn.example/mug-3.jpg"],
        category="Home > Kitchen",
        item_group_id="MUGS",
        inventory=7,
    ),
    ProductCreate(
        retailer_id="SKU-2", title="Plate", availability="out of stock", condition="used", price=usd(500)
    ),
]


def test_a_good_csv_feed_with_bom_crlf_and_quoted_commas_and_newlines() -> None:
    # Given a feed as Excel's "CSV UTF-8" writes it: a BOM, CRLF, quotes around commas and newlines
    body = GOOD_CSV.encode()

    # When
    parsed = parse_feed(body, CSV, "USD")

    # Then every row is a product, numbered as a data row, and empty cells took the model defaults
    assert parsed == ParsedFeed(rows=[FeedRow(1, EXPECTED[0]), FeedRow(2, EXPECTED[1])], rejected=[])


def test_the_same_feed_as_json() -> None:
    document = [
        {
            "id": "SKU-1",
            "title": "Mug, blue",
            "description": 'Holds 350 ml.\r\nDishwasher safe, "really"',
            "availability": "in stock",
            "condition": "new",
            "price": "12.50 USD",
            "sale_price": {"amount": 999, "currency": "USD"},
            "link": "https://shop.example/mug",
            "image_link": "https://cdn.example/mug.jpg",
            "brand": "Acme",
            "additional_image_link": ["https://cdn.example/mug-2.jpg", "https://cdn.example/mug-3.jpg"],
            "product_type": "Home > Kitchen",
            "item_group_id": "MUGS",
            "inventory": 7,
        },
        {
            "id": "SKU-2",
            "title": "Plate",
            "description": "",
            "availability": "out of stock",
            "condition": "used",
            "price": {"amount": 500, "currency": "USD"},
            "sale_price": None,
            "inventory": None,
        },
    ]

    parsed = parse_json(document)

    assert parsed == ParsedFeed(rows=[FeedRow(1, EXPECTED[0]), FeedRow(2, EXPECTED[1])], rejected=[])


def test_json_in_the_data_envelope_of_metas_api() -> None:
    parsed = parse_json({"data": [product()], "paging": {"cursors": {}}})

    assert single_product(parsed).retailer_id == "SKU-1"


def test_json_numbers_where_they_make_sense() -> None:
    parsed = parse_json([product(id=1234, item_group_id=77, inventory="3")])

    made = single_product(parsed)
    assert (made.retailer_id, made.item_group_id, made.inventory) == ("1234", "77", 3)


def test_header_names_are_matched_ignoring_case_and_surrounding_spaces() -> None:
    parsed = parse_csv(" ID ,Title,PRICE\nSKU-1,Mug,1.00 USD\n")

    assert single_product(parsed).title == "Mug"


def test_a_feed_of_only_a_header_or_an_empty_array_is_empty() -> None:
    assert parse_csv("id,title,price\r\n") == ParsedFeed([], [])
    assert parse_json([]) == ParsedFeed([], [])
    assert parse_json({"data": []}) == ParsedFeed([], [])


def test_metas_metadata_comments_above_the_header_are_skipped() -> None:
    text = "# ref_application_id 123 # ref_asset_id feed-1\nid,title,price\nSKU-1,Mug,1.00 USD\n"

    assert single_product(parse_csv(text)).retailer_id == "SKU-1"


# --- header problems --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["id", "title", "price"])
def test_a_header_without_a_required_column_is_a_format_error(missing: str) -> None:
    header = ",".join(column for column in ["id", "title", "price", "brand"] if column != missing)

    with pytest.raises(FeedFormatError, match=f"missing required column: {missing}$"):
        parse_csv(header + "\n")


def test_every_missing_required_column_is_named() -> None:
    with pytest.raises(FeedFormatError, match="missing required columns: id, price"):
        parse_csv("title,brand\nMug,Acme\n")


def test_a_required_key_that_no_json_object_has_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError, match="missing required column: price"):
        parse_json([{"id": "SKU-1", "title": "Mug"}, {"id": "SKU-2", "title": "Cup"}])


def test_a_required_key_missing_from_one_json_object_rejects_that_row() -> None:
    parsed = parse_json([product(), {"id": "SKU-2", "title": "Cup"}])

    assert [row.row for row in parsed.rows] == [1]
    assert parsed.rejected == [Rejection(2, "price", "price is required")]


def test_an_unknown_column_is_a_format_error_that_names_it() -> None:
    with pytest.raises(FeedFormatError, match=r"unknown column 'tittle' \(did you mean 'title'\?\)"):
        parse_csv("id,tittle,title,price\n")


def test_an_unknown_json_key_is_a_format_error_that_names_it_and_its_row() -> None:
    with pytest.raises(FeedFormatError, match=r"unknown column 'prise' \(first in row 2\)"):
        parse_json([product(), product(id="SKU-2", prise="1.00 USD")])


def test_metas_other_columns_are_accepted_and_not_stored() -> None:
    # Given Meta columns chatshop does not keep, flat and in Meta's flattened JSON-path notation
    header = (
        "id,title,price,gtin,mpn,color,size,gender,age_group,material,pattern,shipping,shipping_weight,"
        "custom_label_0,custom_label_4,rich_text_description,visibility,status,video[0].url,"
        "sale_price_effective_date,fb_product_category,origin_country,importer_name,manufacturer_info,"
        "wa_compliance_category,short_description,applink.ios_url,image[0].tag[1]"
    )
    values = ["SKU-1", "Mug", "1.00 USD"] + ["x"] * (header.count(",") - 2)

    # When
    parsed = parse_csv(f"{header}\n{','.join(values)}\n")

    # Then the row is a product of the stored columns only
    assert single_product(parsed) == ProductCreate(retailer_id="SKU-1", title="Mug", price=usd(100))


def test_a_stored_column_in_json_path_notation_is_unknown_rather_than_dropped() -> None:
    with pytest.raises(FeedFormatError, match=r"'additional_image_link\[0\]'.*as one plain column"):
        parse_csv("id,title,price,additional_image_link[0]\n")


@pytest.mark.parametrize(
    "header", ["id,title,price,id", "id,title,price,Title", "id,title,price,color, COLOR"]
)
def test_a_duplicated_header_column_is_a_format_error(header: str) -> None:
    with pytest.raises(FeedFormatError, match="duplicate column"):
        parse_csv(header + "\n")


def test_an_unnamed_header_column_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError, match="column 4 has no name"):
        parse_csv("id,title,price,\n")


def test_an_empty_csv_body_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError, match="needs a header row"):
        parse_csv("\r\n\r\n")


# --- encoding and content type ----------------------------------------------------------------------


def test_invalid_utf8_is_a_format_error_naming_the_byte_offset() -> None:
    body = b"id,title,price\nSKU-1,Caf\xe9,1.00 USD\n"

    with pytest.raises(FeedFormatError, match=r"byte 0xe9 at byte offset 24 \(line 2\)"):
        parse_feed(body, CSV, "USD")


def test_a_utf16_file_gets_a_hint() -> None:
    with pytest.raises(FeedFormatError, match="looks like UTF-16"):
        parse_feed("id,title,price\n".encode("utf-16"), CSV, "USD")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/csv", b"id,title,price\n"),
        ("application/csv", b"id,title,price\n"),
        ("text/csv; charset=utf-8", b"id,title,price\n"),
        ('Text/CSV;charset="UTF-8"', b"id,title,price\n"),
        ("text/csv; header=present", b"id,title,price\n"),
        ("application/json", b"[]"),
        ("application/json; charset=UTF-8", b"[]"),
    ],
)
def test_accepted_content_types(content_type: str, body: bytes) -> None:
    assert parse_feed(body, content_type, "USD") == ParsedFeed([], [])


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain", "unsupported content type 'text/plain'"),
        ("application/xml", "unsupported content type"),
        ("", "unsupported content type"),
        ("text/csv; charset=iso-8859-1", "unsupported charset 'iso-8859-1'"),
        ("application/json; charset=utf-16", "unsupported charset 'utf-16'"),
    ],
)
def test_other_content_types_and_charsets_are_format_errors(content_type: str, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        parse_feed(b"id,title,price\n", content_type, "USD")


# --- CSV structure ----------------------------------------------------------------------------------


def test_an_unterminated_quote_is_a_format_error_with_the_line() -> None:
    text = 'id,title,price\nSKU-1,Mug,1.00 USD\nSKU-2,"Cup\nstill the title\n'

    with pytest.raises(FeedFormatError, match=r"line 4, in the record that starts on line 3.*never closed"):
        parse_csv(text)


def test_text_after_a_closing_quote_is_a_format_error_with_the_line() -> None:
    with pytest.raises(FeedFormatError, match="malformed at line 2"):
        parse_csv('id,title,price\nSKU-1,"Mug" blue,1.00 USD\n')


def test_a_row_with_more_fields_than_the_header_is_rejected() -> None:
    parsed = parse_csv("id,title,price\nSKU-1,Mug,1,00 USD\nSKU-2,Cup,2.00 USD\n")

    assert parsed.rejected == [Rejection(1, None, "row has 4 fields; the header has 3")]
    assert [row.product.retailer_id for row in parsed.rows] == ["SKU-2"]


def test_a_row_with_fewer_fields_than_the_header_has_them_empty() -> None:
    parsed = parse_csv("id,title,price,brand\nSKU-1,Mug,1.00 USD\nSKU-2,Cup\n")

    assert [(row.row, row.product.brand) for row in parsed.rows] == [(1, None)]
    assert parsed.rejected == [Rejection(2, "price", "price is required")]


def test_blank_lines_are_not_rows() -> None:
    # Given blank lines, a line of spaces and a spreadsheet's row of empty cells between the rows
    text = "\nid,title,price\n\nSKU-1,Mug,1.00 USD\n   \n,,\nSKU-2,Cup,bad\n\n"

    parsed = parse_csv(text)

    assert [row.row for row in parsed.rows] == [1]
    assert [(r.row, r.column) for r in parsed.rejected] == [(2, "price")]


def test_row_numbers_count_records_when_a_quoted_field_spans_lines() -> None:
    text = 'id,title,price,description\nSKU-1,Mug,1.00 USD,"one\ntwo\nthree"\nSKU-2,Cup,oops,\n'

    parsed = parse_csv(text)

    assert parsed.rows[0].row == 1
    assert parsed.rejected == [
        Rejection(2, "price", "'oops' is not a price like '129.99 USD'"),
    ]


def test_more_rows_than_the_limit_is_a_format_error_and_the_rest_is_not_read() -> None:
    # Given a third row past a limit of two, and a malformed line after it that is never reached
    text = 'id,title,price\nA,a,1 USD\nB,b,1 USD\nC,c,1 USD\nD,"broken\n'

    with pytest.raises(FeedFormatError, match="more than 2 rows"):
        parse_csv(text, max_rows=2)
    assert len(parse_csv("id,title,price\nA,a,1 USD\nB,b,1 USD\n", max_rows=2).rows) == 2


def test_more_json_rows_than_the_limit_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError, match="more than 2 rows"):
        parse_json([product(id=str(i)) for i in range(3)], max_rows=2)


# --- JSON structure ---------------------------------------------------------------------------------


def test_invalid_json_is_a_format_error_with_line_and_column() -> None:
    body = b'[\n  {"id": "SKU-1", "title": "Mug", "price": "1.00 USD"},\n  {"id": }\n]'

    with pytest.raises(FeedFormatError, match="Expecting value at line 3, column 10"):
        parse_feed(body, JSON, "USD")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"products": []}', "array of products"),
        (b'"SKU-1"', "got a string"),
        (b"[NaN]", "NaN is not a JSON value"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"", "not valid JSON"),
    ],
)
def test_json_that_is_not_a_product_list_is_a_format_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedFormatError, match=message):
        parse_feed(body, JSON, "USD")


def test_a_json_element_that_is_not_an_object_is_rejected() -> None:
    parsed = parse_json([product(), "SKU-2", [1], None])

    assert [row.row for row in parsed.rows] == [1]
    assert parsed.rejected == [
        Rejection(2, None, "expected a product object; got a string"),
        Rejection(3, None, "expected a product object; got an array"),
        Rejection(4, None, "expected a product object; got null"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'[{"id": "SKU-1", "title": "Mug", "title": "Cup", "price": "1.00 USD"}]',
        b'[{"id": "SKU-1", "title": "Mug", "Title": "Cup", "price": "1.00 USD"}]',
    ],
)
def test_a_json_key_given_twice_rejects_the_row(body: bytes) -> None:
    found = rejection(parse_feed(body, JSON, "USD"))

    assert (found.row, found.column) == (1, "title")
    assert "more than once" in found.reason


# --- values -----------------------------------------------------------------------------------------


def test_a_duplicate_id_rejects_the_later_row_and_keeps_the_earlier() -> None:
    parsed = parse_csv("id,title,price\nSKU-1,Mug,1.00 USD\nSKU-2,Cup,2.00 USD\n SKU-1 ,Mug again,3.00 USD\n")

    assert [(row.row, row.product.title) for row in parsed.rows] == [(1, "Mug"), (2, "Cup")]
    assert parsed.rejected == [Rejection(3, "id", "duplicate id 'SKU-1': row 1 has it already")]


def test_the_first_row_owns_an_id_even_when_it_is_rejected() -> None:
    parsed = parse_json([product(price="oops"), product(title="Fixed")])

    assert parsed.rows == []
    assert [(r.row, r.column) for r in parsed.rejected] == [(1, "price"), (2, "id")]


def test_a_price_in_another_currency_than_the_shops_is_rejected() -> None:
    found = rejection(parse_csv("id,title,price\nSKU-1,Mug,12.50 EUR\n"))

    assert found == Rejection(1, "price", "price is in EUR; the shop sells in USD")


def test_a_sale_price_in_another_currency_is_rejected_on_sale_price() -> None:
    found = rejection(parse_json([product(sale_price={"amount": 100, "currency": "EUR"})]))

    assert found == Rejection(1, "sale_price", "sale_price is in EUR; the shop sells in USD")


@pytest.mark.parametrize("price", ["12,50 USD", "USD 12.50", "12.50", "$12.50", "twelve USD", "12.50 XYZ"])
def test_a_price_that_is_not_in_the_feed_notation_is_rejected(price: str) -> None:
    found = rejection(parse_csv(f'id,title,price\nSKU-1,Mug,"{price}"\n'))

    assert found.column == "price"


@pytest.mark.parametrize("price", [12.5, True, ["12.50 USD"], {"amount": "1250", "currency": "USD"}])
def test_a_json_price_must_be_text_or_an_amount_object(price: Any) -> None:
    found = rejection(parse_json([product(price=price)]))

    assert found.column == "price"


def test_a_price_with_more_decimals_than_its_currency_is_rejected() -> None:
    found = rejection(parse_csv("id,title,price\nSKU-1,Mug,1.999 USD\n"))

    assert found == Rejection(1, "price", "USD has 2 decimal places; 1.999 has more")


def test_a_zero_decimal_currency_is_counted_in_whole_units() -> None:
    parsed = parse_csv("id,title,price\nSKU-1,Mug,1000 JPY\nSKU-2,Cup,1000.5 JPY\n", currency="JPY")

    assert parsed.rows[0].product.price == Money(amount=1000, currency="JPY")
    assert [(r.row, r.column) for r in parsed.rejected] == [(2, "price")]


def test_a_sale_price_above_the_price_is_rejected_on_sale_price() -> None:
    parsed = parse_csv(
        "id,title,price,sale_price\nSKU-1,Mug,10.00 USD,10.01 USD\nSKU-2,Cup,10.00 USD,10.00 USD\n"
    )

    assert [row.row for row in parsed.rows] == [2]
    assert [(r.row, r.column) for r in parsed.rejected] == [(1, "sale_price")]
    assert "more than price" in parsed.rejected[0].reason


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-1", "greater than or equal to 0"),
        ("2.5", "whole number"),
        ("three", "whole number"),
        ("1" * 19, "too large"),
    ],
)
def test_inventory_must_be_a_whole_number_of_zero_or_more(cell: str, reason: str) -> None:
    found = rejection(parse_csv(f"id,title,price,inventory\nSKU-1,Mug,1.00 USD,{cell}\n"))

    assert found.column == "inventory"
    assert reason in found.reason


@pytest.mark.parametrize("inventory", [3.0, True, -1, [3]])
def test_json_inventory_must_be_a_whole_number_of_zero_or_more(inventory: Any) -> None:
    assert rejection(parse_json([product(inventory=inventory)])).column == "inventory"


def test_inventory_prefers_inventory_over_metas_older_column_and_names_the_one_used() -> None:
    parsed = parse_csv(
        "id,title,price,inventory,quantity_to_sell_on_facebook\nA,a,1 USD,4,9\nB,b,1 USD,,9\nC,c,1 USD,,-2\n"
    )

    assert [row.product.inventory for row in parsed.rows] == [4, 9]
    assert [(r.row, r.column) for r in parsed.rejected] == [(3, "quantity_to_sell_on_facebook")]


def test_category_prefers_category_then_product_type_then_google_product_category() -> None:
    parsed = parse_csv(
        "id,title,price,google_product_category,product_type,category\n"
        "A,a,1 USD,2271,Home > Mugs,Mugs\n"
        "B,b,1 USD,2271,Home > Mugs,\n"
        "C,c,1 USD,2271,,\n"
        f"D,d,1 USD,,{'x' * 251},\n"
    )

    assert [row.product.category for row in parsed.rows] == ["Mugs", "Home > Mugs", "2271"]
    assert [(r.row, r.column) for r in parsed.rejected] == [(4, "product_type")]


def test_a_title_over_200_characters_is_rejected_without_echoing_it() -> None:
    parsed = parse_csv(f"id,title,price\nA,{'t' * 200},1 USD\nB,{'t' * 201},1 USD\n")

    assert [row.row for row in parsed.rows] == [1]
    assert parsed.rejected == [
        Rejection(2, "title", "String should have at most 200 characters (got 201 characters)")
    ]


def test_a_bad_url_is_rejected_on_its_column() -> None:
    found = rejection(parse_csv("id,title,price,link\nSKU-1,Mug,1.00 USD,shop.example/mug\n"))

    assert found == Rejection(1, "link", "must be an http or https URL (got 'shop.example/mug')")


def test_a_bad_additional_image_link_names_the_feed_column_and_the_item() -> None:
    found = rejection(
        parse_csv(
            'id,title,price,additional_image_link\nSKU-1,Mug,1.00 USD,"https://a.example/1.jpg, ftp://x"\n'
        )
    )

    assert found == Rejection(
        1, "additional_image_link", "item 2: must be an http or https URL (got 'ftp://x')"
    )


def test_additional_image_links_split_on_metas_separators() -> None:
    cell = "https://a.example/1.jpg; https://a.example/2.jpg|https://a.example/3.jpg https://a.example/4.jpg,"

    made = single_product(parse_csv(f'id,title,price,additional_image_link\nSKU-1,Mug,1.00 USD,"{cell}"\n'))

    assert made.additional_image_links == [f"https://a.example/{n}.jpg" for n in range(1, 5)]


def test_a_value_with_control_characters_is_echoed_escaped() -> None:
    found = rejection(parse_json([product(link="javascript:\x1b[31m")]))

    assert "\x1b" not in found.reason
    assert "\\x1b" in found.reason


@pytest.mark.parametrize(
    ("availability", "expected"),
    [
        ("in stock", "in stock"),
        ("In Stock", "in stock"),
        ("IN_STOCK", "in stock"),
        ("out_of_stock", "out of stock"),
        (" available  for_order ", "available for order"),
        ("Preorder", "preorder"),
        ("DISCONTINUED", "discontinued"),
    ],
)
def test_availability_is_normalised(availability: str, expected: str) -> None:
    parsed = parse_csv(f'id,title,price,availability\nSKU-1,Mug,1.00 USD,"{availability}"\n')

    assert single_product(parsed).availability == expected


@pytest.mark.parametrize(
    ("condition", "expected"), [("New", "new"), ("REFURBISHED", "refurbished"), ("used", "used")]
)
def test_condition_is_normalised(condition: str, expected: str) -> None:
    assert single_product(parse_json([product(condition=condition)])).condition == expected


@pytest.mark.parametrize(("column", "value"), [("availability", "sold"), ("condition", "like new")])
def test_an_unknown_availability_or_condition_is_rejected(column: str, value: str) -> None:
    found = rejection(parse_json([product(**{column: value})]))

    assert found.column == column
    assert f"(got '{value}')" in found.reason


def test_empty_cells_take_the_model_defaults() -> None:
    made = single_product(parse_csv("id,title,price,availability,condition,brand\nSKU-1,Mug,1.00 USD, ,,\n"))

    assert (made.availability, made.condition, made.brand) == ("in stock", "new", None)


@pytest.mark.parametrize("cell", ["", "   "])
def test_an_empty_required_cell_is_rejected_as_required(cell: str) -> None:
    assert rejection(parse_csv(f"id,title,price\nSKU-1,{cell},1.00 USD\n")) == Rejection(
        1, "title", "title is required"
    )


def test_every_bad_column_of_a_row_is_reported_and_the_row_yields_no_product() -> None:
    parsed = parse_csv(
        "id,title,price,link,inventory,sale_price\nSKU-1,,1.00 EUR,nope,-3,2.00 GBP\nSKU-2,Cup,1.00 USD,,,\n"
    )

    assert [row.row for row in parsed.rows] == [2]
    assert {(r.row, r.column) for r in parsed.rejected} == {
        (1, "title"),
        (1, "price"),
        (1, "link"),
        (1, "inventory"),
        (1, "sale_price"),
    }


def test_a_bad_row_never_stops_the_good_ones() -> None:
    rows = "".join(f"SKU-{i},Item {i},{'bad' if i % 3 == 0 else '1.00 USD'}\n" for i in range(1, 31))

    parsed = parse_csv("id,title,price\n" + rows)

    assert len(parsed.rows) == 20
    assert [r.row for r in parsed.rejected] == list(range(3, 31, 3))


def test_a_format_error_echoes_a_long_column_name_only_in_part() -> None:
    with pytest.raises(FeedFormatError) as raised:
        parse_csv("id,title,price," + "x" * 100_000 + "\n")

    assert len(str(raised.value)) < 200


def test_a_field_over_the_csv_modules_limit_is_a_format_error() -> None:
    with pytest.raises(FeedFormatError, match="line 2: field larger than field limit"):
        parse_csv('id,title,price,description\nSKU-1,Mug,1.00 USD,"' + "x" * 200_000 + '"\n')
