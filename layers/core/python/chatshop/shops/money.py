"""Money in integer minor units, and the feed's ``"129.99 USD"`` price notation."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from chatshop.platform.iso import CURRENCY_EXPONENTS


def _currency(value: str) -> str:
    if value not in CURRENCY_EXPONENTS:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


# Exactly a code the document lists: " USD" is refused rather than trimmed.
CurrencyCode = Annotated[
    str, AfterValidator(_currency), WithJsonSchema({"type": "string", "enum": sorted(CURRENCY_EXPONENTS)})
]

# "129.99 USD", "1,299.00 EUR" is not accepted: Meta's feeds use a dot and no grouping.
_PRICE = re.compile(r"^\s*(?P<amount>[0-9]+(?:\.[0-9]+)?)\s+(?P<currency>[A-Z]{3})\s*$")


MAX_AMOUNT = 10**15


def _whole_number(value: object) -> object:
    # JSON (and the document's "integer") make no difference between 12999 and 12999.0; strings and
    # booleans stay refused by the strict check that follows.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole_number(minimum: int, maximum: int | None = None) -> object:
    """A JSON integer in bounds: 3 and 3.0, never "3" or true. (The bounds come before the
    validator, or pydantic cannot write them into the JSON schema as minimum and maximum.)"""
    return Annotated[int, Field(ge=minimum, le=maximum, strict=True), BeforeValidator(_whole_number)]


class Money(BaseModel):
    """An amount in the currency's minor unit: ``129.99 USD`` is ``{"amount": 12999, "currency": "USD"}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Bounded well inside what DynamoDB's numbers hold (38 digits) and what any price needs.
    amount: whole_number(0, MAX_AMOUNT)  # type: ignore[valid-type]
    currency: CurrencyCode


class PriceFormatError(ValueError):
    pass


def parse_price(text: str) -> Money:
    """``"129.99 USD"`` as Money; more decimals than the currency has is an error, not a rounding."""
    match = _PRICE.match(text)
    if match is None:
        raise PriceFormatError(f"{text!r} is not a price like '129.99 USD'")
    currency = match["currency"]
    if currency not in CURRENCY_EXPONENTS:
        raise PriceFormatError(f"{currency!r} is not an ISO 4217 currency code")
    exponent = CURRENCY_EXPONENTS[currency]
    try:
        amount = Decimal(match["amount"]).scaleb(exponent)
    except InvalidOperation:
        raise PriceFormatError(f"{text!r} is not a price like '129.99 USD'") from None
    if amount != amount.to_integral_value():
        raise PriceFormatError(f"{currency} has {exponent} decimal places; {match['amount']} has more")
    return Money(amount=int(amount), currency=currency)


def format_price(money: Money) -> str:
    exponent = CURRENCY_EXPONENTS[money.currency]
    return f"{Decimal(money.amount).scaleb(-exponent):.{exponent}f} {money.currency}"
