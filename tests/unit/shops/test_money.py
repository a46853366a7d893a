"""Money in minor units and the feed's price notation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chatshop.shops.money import Money, PriceFormatError, format_price, parse_price


@pytest.mark.parametrize(
    "text, amount, currency",
    [
        ("129.99 USD", 12999, "USD"),
        ("0.10 EUR", 10, "EUR"),
        ("5 GBP", 500, "GBP"),
        ("1000 JPY", 1000, "JPY"),
        ("1.5 KWD", 1500, "KWD"),
        ("  7.00   BRL ", 700, "BRL"),
    ],
)
def test_prices_become_minor_units(text, amount, currency):
    assert parse_price(text) == Money(amount=amount, currency=currency)


@pytest.mark.parametrize(
    "text", ["1.999 USD", "10.5 JPY", "12,99 EUR", "USD 12.99", "12.99", "-1.00 USD", "1.00 usd"]
)
def test_a_price_that_is_not_exact_or_not_in_the_notation_is_refused(text):
    with pytest.raises(PriceFormatError):
        parse_price(text)


def test_an_unknown_currency_is_refused():
    with pytest.raises(PriceFormatError, match="ISO 4217"):
        parse_price("1.00 ABC")


@pytest.mark.parametrize(
    "money, text",
    [(Money(amount=12999, currency="USD"), "129.99 USD"), (Money(amount=7, currency="JPY"), "7 JPY")],
)
def test_format_is_the_inverse_of_parse(money, text):
    assert format_price(money) == text
    assert parse_price(format_price(money)) == money


@pytest.mark.parametrize(
    "value",
    [
        {"amount": -1, "currency": "USD"},
        {"amount": 1.5, "currency": "USD"},
        {"amount": "100", "currency": "USD"},
        {"amount": True, "currency": "USD"},
        {"amount": 10**16, "currency": "USD"},
        {"amount": 1, "currency": "XXY"},
        {"amount": 1, "currency": "USD", "cents": 1},
    ],
)
def test_money_accepts_only_whole_non_negative_amounts_in_a_known_currency(value):
    with pytest.raises(ValidationError):
        Money.model_validate(value)
