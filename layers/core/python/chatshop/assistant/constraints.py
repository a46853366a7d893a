"""What a customer's question asks for: the words naming a product, and the constraints it states.

"Blue merino socks under $20, in stock" is the words "merino socks" and four constraints: a colour,
a highest price, availability, and (the shop has a "Socks" category) a category. The constraints
are honoured by :func:`fits`, never only matched as words; the words go to the search.

Prices are read in the shop's currency whatever sign the customer typed: a shop has one currency
and nothing here converts. "Under 30" is below 30 (29.99 in dollars, 29 in yen), "up to 30" is 30.
Colours are read in every language, since a colour word names a colour whether or not the shop has
it ("purple socks" in a shop without purple must find none, not any socks); sizes typed bare ("M",
"XL") count when the catalog has them, and any size after "size" / "talla" / "tamanho" / "साइज़";
brands and categories are the catalog's own.

A follow-up ("in blue", "cheaper", "something else from Acme") only adds or replaces constraints of
the previous question (:func:`refine`); one that names a product is a new question.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from chatshop.platform.iso import CURRENCY_EXPONENTS
from chatshop.shops.domain import Product

from .vocabulary import (
    REGIONAL_SIZES,
    SIZE_WORDS,
    WORD,
    CatalogVocabulary,
    brand_of,
    categories_of,
    colour_at,
    colours_of,
    fold,
    gloss_at,
    gloss_languages,
    in_stock_now,
    letter_size,
    numeric_size,
    plain,
    same_name,
    sizes_of,
)

AttributeKind = Literal["color", "size", "brand", "category"]
ATTRIBUTE_KINDS: tuple[AttributeKind, ...] = ("color", "size", "brand", "category")
# What a product can break, named as the reply names them.
ConstraintKind = Literal["price", "stock", "color", "size", "brand", "category"]
# Nothing a customer types needs more; the rest is cut so work stays bounded for any input.
MAX_QUESTION_CHARS = 500


# --- Constraints --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraints:
    """Prices in major units of the shop's currency, both bounds included; several values of one
    attribute kind are alternatives ("blue or black"), different kinds all apply."""

    min_price: Decimal | None = None
    max_price: Decimal | None = None
    cheap: bool = False
    in_stock: bool = False
    attributes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # One order, so that two readings of the same question compare equal.
        ordered = sorted(set(self.attributes), key=lambda a: (ATTRIBUTE_KINDS.index(a[0]), a[1].casefold()))
        object.__setattr__(self, "attributes", tuple(ordered))

    def values(self, kind: AttributeKind) -> tuple[str, ...]:
        return tuple(value for k, value in self.attributes if k == kind)

    def replacing(self, kind: AttributeKind, values: Iterable[str]) -> Constraints:
        kept = [a for a in self.attributes if a[0] != kind]
        return replace(self, attributes=(*kept, *((kind, v) for v in values)))

    @property
    def stated(self) -> bool:
        return bool(
            self.min_price is not None
            or self.max_price is not None
            or self.cheap
            or self.in_stock
            or self.attributes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "min_price": None if self.min_price is None else str(self.min_price),
            "max_price": None if self.max_price is None else str(self.max_price),
            "cheap": self.cheap,
            "in_stock": self.in_stock,
            "attributes": [list(a) for a in self.attributes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Constraints:
        attributes = tuple((str(kind), str(value)) for kind, value in data.get("attributes", ()))
        for kind, _ in attributes:
            if kind not in ATTRIBUTE_KINDS:
                raise ValueError(f"unknown attribute kind {kind!r}")
        return cls(
            min_price=_decimal_or_none(data.get("min_price")),
            max_price=_decimal_or_none(data.get("max_price")),
            cheap=bool(data.get("cheap", False)),
            in_stock=bool(data.get("in_stock", False)),
            attributes=attributes,
        )


def _decimal_or_none(value: object) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a price") from None


@dataclass(frozen=True)
class Question:
    """A question as understood: what it names (``text`` in the customer's words, ``terms`` in the
    catalog's), what it requires, and the products set aside by "something else"."""

    text: str
    terms: tuple[str, ...]
    constraints: Constraints = field(default_factory=Constraints)
    language: str | None = None
    excluded: tuple[str, ...] = ()

    @property
    def search_text(self) -> str:
        """What to ask the search for: the product words; with none, the attributes asked for, so
        that "something blue" still ranks blue things first."""
        if self.terms:
            return " ".join(self.terms)
        wanted = (v for k, v in self.constraints.attributes if k in ("color", "brand", "category"))
        return " ".join(wanted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "terms": list(self.terms),
            "constraints": self.constraints.to_dict(),
            "language": self.language,
            "excluded": list(self.excluded),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Question:
        return cls(
            text=str(data.get("text", "")),
            terms=tuple(str(t) for t in data.get("terms", ())),
            constraints=Constraints.from_dict(data.get("constraints", {})),
            language=data.get("language"),
            excluded=tuple(str(i) for i in data.get("excluded", ())),
        )


# --- Whether a product fits ----------------------------------------------------------------------------


def effective_price(product: Product) -> Decimal:
    """What the product costs now, in major units: its sale price when that is lower."""
    money = product.price
    sale = product.sale_price
    if sale is not None and sale.currency == money.currency and sale.amount < money.amount:
        money = sale
    return Decimal(money.amount).scaleb(-CURRENCY_EXPONENTS.get(money.currency, 2))


def broken(product: Product, constraints: Constraints) -> tuple[ConstraintKind, ...]:
    """The kinds of constraint the product does not meet, in a fixed order; () when it fits."""
    kinds: list[ConstraintKind] = []
    price = effective_price(product)
    if (constraints.min_price is not None and price < constraints.min_price) or (
        constraints.max_price is not None and price > constraints.max_price
    ):
        kinds.append("price")
    if constraints.in_stock and not in_stock_now(product):
        kinds.append("stock")
    for kind in ATTRIBUTE_KINDS:
        wanted = constraints.values(kind)
        if wanted and not any(_has(product, kind, value) for value in wanted):
            kinds.append(kind)
    return tuple(kinds)


def fits(product: Product, constraints: Constraints) -> bool:
    return not broken(product, constraints)


def _has(product: Product, kind: AttributeKind, value: str) -> bool:
    if kind == "color":
        return value in colours_of(product)
    if kind == "size":
        return value in sizes_of(product)
    if kind == "brand":
        brand = brand_of(product)
        return brand is not None and same_name(brand, value)
    return any(same_name(step, value) for step in categories_of(product))


# --- Phrases --------------------------------------------------------------------------------------------

_B = r"(?<![\w\u0900-\u097f])"  # a word starts here (\b alone misreads Devanagari)
_E = r"(?![\w\u0900-\u097f])"
_NUMBER = r"\d+(?:[.,]\d+)*"
_BEFORE = r"(?:(?:us|r)?\$|₹|€|£|(?:rs|inr|usd|brl|eur|mxn)\.?)?\s*"
_AFTER = (
    r"(?:\s*(?:\$|₹|€|us\$|usd|dollars?|dolares|dolar|bucks|reais|real|rupees?|rs\.?|inr|euros?|pesos?"
    r"|डॉलर|डालर|रुपये|रुपए|रुपया|रु\.?)" + _E + r")?"
)


def _amount(name: str) -> str:
    return rf"{_BEFORE}(?P<{name}>{_NUMBER}(?:\s*(?:k|mil|हजार){_E})?){_AFTER}"


def _either(*phrases: str) -> str:
    return "(?:" + "|".join(phrases) + ")"


A, A2 = _amount("a"), _amount("b")

# Each: the pattern, and which bound it sets ("min"/"max"/"range") with whether the bound itself is
# excluded ("under 30" excludes 30). Earlier patterns win: "no more than" before "more than".
_PRICE_PATTERNS: list[tuple[str, str, bool]] = [
    (
        _B
        + _either(r"between", r"entre")
        + rf"\s+{A}\s+"
        + _either(r"and", r"y", r"e", r"to", "-", r"a")
        + rf"\s+{A2}",
        "range",
        False,
    ),
    (
        _B
        + _either(r"from", r"de", r"desde")
        + rf"\s+{A}\s+"
        + _either(r"to", r"a", r"ate", r"hasta", "-")
        + rf"\s+{A2}",
        "range",
        False,
    ),
    (
        rf"{A}\s*" + _either(r"से", r"और", "-", "–") + rf"\s*{A2}\s*(?:के\s+)?" + _either(r"बीच", r"तक") + _E,
        "range",
        False,
    ),
    # A bare "2-4" is as often people or pieces as dollars: a range needs a currency on one side.
    (rf"[$₹€£]\s*(?P<a>{_NUMBER})\s*[-–]\s*[$₹€£]?\s*(?P<b>{_NUMBER})", "range", False),
    (
        rf"(?P<a>{_NUMBER})\s*[-–]\s*(?P<b>{_NUMBER})\s*"
        + _either(r"\$", r"dollars?", r"usd", r"reais", r"rupees?", r"pesos", r"euros?", r"डॉलर", r"रुपये")
        + _E,
        "range",
        False,
    ),
    # Negated comparisons first: "no more than 30" is a highest price, "no less than" a lowest.
    (
        _B
        + _either(
            r"no more than",
            r"not more than",
            r"not over",
            r"no mas de",
            r"no mas que",
            r"nao mais (?:de|que)",
            r"no maximo de",
        )
        + rf"\s+{A}",
        "max",
        False,
    ),
    (
        _B + _either(r"no less than", r"not less than", r"no menos de", r"nao menos (?:de|que)") + rf"\s+{A}",
        "min",
        False,
    ),
    (rf"{_B}कम\s+से\s+कम\s+{A}", "min", False),
    (
        _B
        + _either(
            r"under",
            r"below",
            r"less than",
            r"lower than",
            r"cheaper than",
            r"beneath",
            r"<",
            r"menos de",
            r"menos que",
            r"por debajo de",
            r"debajo de",
            r"bajo",
            r"mas barato que",
            r"inferior a",
            r"abaixo de",
            r"mais barato que",
            r"por menos de",
        )
        + rf"\s*{A}",
        "max",
        True,
    ),
    (
        _B
        + _either(
            r"max(?:imum)?",
            r"at most",
            r"up to",
            r"upto",
            r"within",
            r"budget(?: of| is)?",
            r"como maximo",
            r"maximo(?: de)?",
            r"a lo sumo",
            r"hasta",
            r"no maximo",
            r"ate",
            r"अधिकतम",
            r"ज्यादा से ज्यादा",
            r"≤",
        )
        + rf"\s*:?\s*{A}",
        "max",
        False,
    ),
    (
        rf"{A}\s*"
        + _either(
            r"or less",
            r"or under",
            r"and under",
            r"max(?:imum)?",
            r"tops",
            r"at most",
            r"o menos",
            r"ou menos",
            r"no maximo",
            r"como maximo",
        )
        + _E,
        "max",
        False,
    ),
    (rf"{A}\s*(?:के\s+)?" + _either(r"से\s+कम", r"से\s+नीचे", r"के\s+नीचे", r"से\s+सस्त[ाीे]") + _E, "max", True),
    (rf"{A}\s*(?:के\s+)?" + _either(r"तक", r"के\s+अंदर", r"के\s+भीतर", r"अंदर", r"भीतर") + _E, "max", False),
    (
        _B
        + _either(
            r"over",
            r"above",
            r"more than",
            r"greater than",
            r">",
            r"mas de",
            r"mas que",
            r"por encima de",
            r"superior a",
            r"mais de",
            r"mais que",
            r"acima de",
        )
        + rf"\s*{A}",
        "min",
        True,
    ),
    (
        _B
        + _either(
            r"at least",
            r"min(?:imum)?",
            r"starting at",
            r"starting from",
            r"from",
            r"al menos",
            r"como minimo",
            r"minimo(?: de)?",
            r"desde",
            r"a partir de",
            r"pelo menos",
            r"no minimo",
            r"≥",
        )
        + rf"\s*:?\s*{A}",
        "min",
        False,
    ),
    (
        rf"{A}\s*" + _either(r"or more", r"and up", r"and above", r"\+", r"o mas", r"ou mais") + r"(?!\w)",
        "min",
        False,
    ),
    (rf"{A}\s*" + _either(r"से\s+ज्यादा", r"से\s+अधिक", r"से\s+ऊपर", r"से\s+महंग[ाीे]") + _E, "min", True),
]
_STOCK = [
    r"in[\s-]stock",
    r"available (?:right )?now",
    r"available today",
    r"currently available",
    r"ready to ship",
    r"ships today",
    r"on hand",
    r"en stock",
    r"en existencia",
    r"con stock",
    r"hay stock",
    r"em estoque",
    r"com estoque",
    r"(?:a )?pronta entrega",
    r"स्टॉक\s+में",
    r"इन\s+स्टॉक",
    r"अभी\s+उपलब्ध",
    r"(?<!not )(?<!no )(?<!sin )(?<!sem )(?<!nao )"
    + _either(r"available", r"disponibles?", r"disponivel", r"disponiveis", r"उपलब्ध", r"मौजूद"),
]
# Comparatives: in a follow-up they mean "below what you showed me"; in a first question, "cheap".
_CHEAPER = [
    r"cheaper",
    r"less expensive",
    r"more affordable",
    r"lower pric(?:e|ed)",
    r"mas barat[oa]s?",
    r"mas economic[oa]s?",
    r"menos car[oa]s?",
    r"mais barat[oa]s?",
    r"mais em conta",
    r"mais economic[oa]s?",
    r"(?:इससे|उससे|और|थोडा|थोड़ा)\s+सस्त[ाीे]",
]
_CHEAP = [
    r"cheap(?:est)?",
    r"inexpensive",
    r"affordable",
    r"budget",
    r"low[\s-]cost",
    r"low[\s-]pric(?:e|ed)",
    r"least expensive",
    r"lowest price",
    r"bargain",
    r"barat(?:it|inh)?[oa]s?",
    r"economic[oa]s?",
    r"de bajo (?:costo|precio)",
    r"bajo precio",
    r"precio bajo",
    r"em conta",
    r"de baixo (?:custo|preco)",
    r"preco baixo",
    r"(?:सबसे\s+)?सस्त[ाीे]",
    r"किफायती",
    r"कम\s+(?:कीमत|दाम|दामों)",
    r"बजट",
]
_OTHER = [
    r"something else",
    r"anything else",
    r"else",
    r"others?",
    r"another",
    r"different",
    r"algo mas",
    r"algo distinto",
    r"otr[oa]s?",
    r"distint[oa]s?",
    r"diferentes?",
    r"algo mais",
    r"outr[oa]s?",
    r"कुछ\s+और",
    r"दूसर[ाीे]",
    r"अलग",
    r"और\s+कोई",
]


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _words_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    return _compiled(_B + _either(*phrases) + _E)


PRICE_PATTERNS = [(_compiled(p), bound, strict) for p, bound, strict in _PRICE_PATTERNS]
STOCK_PATTERN = _words_pattern(_STOCK)
CHEAPER_PATTERN = _words_pattern(_CHEAPER)
CHEAP_PATTERN = _words_pattern(_CHEAP)
OTHER_PATTERN = _words_pattern(_OTHER)

# Words that name no product: greetings, asking, pointing, and the words around prices and sizes.
_FILLERS = """
a an the some any something anything everything stuff thing things item items product products gear
option options one ones i im me my mine we us you your do does did have has had got get buy want wanna
need needs looking look find search show see tell give sell selling sells is are was were be there here
what which who how about for with without in on at of to from by and or but that this these those it its
them they their please pls plz hi hello hey thanks thank ok okay can could would should will like love
also too just only really very good nice great best price prices priced cost costs costing dollar
dollars buck bucks usd money pay spend around roughly approximately else other another size sizes
colour color colours colors brand made kind sort type available stock now today right same more less
much many lot lots maybe instead again still yet please
un una unos unas el la los las lo algo alguno alguna algun algunos algunas cualquier cosa cosas
producto productos produto produtos articulo articulos opcion opciones que quiero quisiera queria busco
buscando necesito tienes tiene tienen tenes hay me mi mis muestrame muestra mostrar ver dame tu su sus
de del al en con para por y o pero sin mas muy tambien solo solamente hola gracias favor porfa precio precios
cuesta cuestan dolares dolar pesos talla marca otro otra es son esta estan
um uma uns umas o os as algum alguma alguns algumas qualquer coisa coisas produto itens opcao opcoes
quero procuro procurando preciso tem tens voce voces vcs mim meu minha mostra mostre da do dos das no
na nos nas em com pra e ou muito so somente apenas ola oi obrigado obrigada preco precos custa custam
reais real tamanho tam cor sao estao
मुझे मुझको मैं मेरे मेरी मेरा हम आप आपके आपका आपकी तुम क्या कोई कुछ भी एक का की के को में से पर और या
लेकिन है हैं हो था थी चाहिए चाहिये चाहता चाहती दिखाओ दिखाइए दिखाएं दिखाइये दिखा दो दें दीजिए बताओ बताइए
वाला वाली वाले लिए लिये पास ढूंढ रहा रही रहे हूं सामान चीज चीजें प्रोडक्ट कीमत दाम डॉलर रुपये साइज रंग
ब्रांड तो ही ये यह वो वह इस उस जो कृपया प्लीज नमस्ते धन्यवाद ऐसा ऐसी ऐसे
"""
FILLERS = frozenset(_FILLERS.split())
# What a size follows: "size M", "talla 40", "tamanho G", "waist 32", "साइज़ 9" (and "9 साइज़").
SIZE_CUES = frozenset({"size", "sized", "talla", "tamanho", "tam", "numero", "waist", "साइज", "नंबर"})
# A bare "M" is a size after one of these: "in M", "en M", "em M".
LETTER_CUES = frozenset({"in", "en", "em"})
# Head-initial languages name what a thing is for after it: "mochila para camping".
_LINKERS = frozenset(
    {"de", "del", "para", "pra", "do", "da", "dos", "das", "por", "for", "of", "के", "की", "का"}
)


# --- Reading a question ----------------------------------------------------------------------------


@dataclass
class _Reading:
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    cheap: bool = False
    cheaper: bool = False
    in_stock: bool = False
    other: bool = False
    attributes: dict[AttributeKind, list[str]] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # the product words as the customer wrote them
    terms: list[str] = field(default_factory=list)  # the same in the catalog's words

    def add(self, kind: AttributeKind, value: str) -> None:
        values = self.attributes.setdefault(kind, [])
        if value not in values:
            values.append(value)

    @property
    def states_something(self) -> bool:
        return bool(
            self.min_price is not None
            or self.max_price is not None
            or self.cheap
            or self.cheaper
            or self.in_stock
            or self.other
            or self.attributes
        )


@dataclass(frozen=True)
class _Token:
    text: str  # as written (case kept: a bare "M" is a size, "m" may not be)
    folded: str
    role: Literal["word", "filler", "attribute"] = "word"
    gloss: tuple[str, ...] = ()


def parse_question(text: str, vocabulary: CatalogVocabulary, language: str | None = None) -> Question:
    reading = _read(text, vocabulary, language)
    constraints = Constraints(
        min_price=reading.min_price,
        max_price=reading.max_price,
        cheap=reading.cheap or reading.cheaper,
        in_stock=reading.in_stock,
        attributes=tuple((kind, v) for kind, values in reading.attributes.items() for v in values),
    )
    return Question(" ".join(reading.words), tuple(reading.terms), constraints, language)


# A question that opens with "something" or "anything" asks about the whole catalog again, whatever
# was asked before.
_OPEN_QUESTION = re.compile(
    r"^\W*(?:(?:i want|i need|show me|do you have|have you got|got|any|quiero|tienes|tienen|quero|"
    r"voces tem|tem)\s+)?(?:something|anything|algo|alguma coisa|qualquer coisa|कुछ)(?!\w)"
)


def refine(
    previous: Question,
    shown: Sequence[Product],
    text: str,
    vocabulary: CatalogVocabulary,
    language: str | None = None,
) -> Question | None:
    """The previous question changed by a follow-up that only states constraints; None when the text
    names a product (a new question) or states nothing.

    "Cheaper" is cheaper than the cheapest product shown; "something else" sets the shown aside.
    """
    language = language or previous.language
    reading = _read(text, vocabulary, language)
    if reading.terms or not reading.states_something:
        return None
    if _OPEN_QUESTION.search(fold(text)) and not reading.other:
        return None  # "something under $30" asks afresh; "something else" refines
    constraints = _bounds_changed(previous.constraints, reading.min_price, reading.max_price)
    if reading.cheaper and shown:
        below = min(effective_price(p) for p in shown) - _minor_unit(vocabulary)
        constraints = _bounds_changed(constraints, None, below)
    elif reading.cheaper:
        constraints = replace(constraints, cheap=True)
    if reading.cheap:
        constraints = replace(constraints, cheap=True)
    if reading.in_stock:
        constraints = replace(constraints, in_stock=True)
    for kind, values in reading.attributes.items():
        constraints = constraints.replacing(kind, values)
    excluded = previous.excluded
    if reading.other:
        excluded = tuple(dict.fromkeys((*excluded, *(p.id for p in shown))))
    return Question(previous.text, previous.terms, constraints, language, excluded)


def _bounds_changed(constraints: Constraints, low: Decimal | None, high: Decimal | None) -> Constraints:
    """New bounds replace the old; an old bound the new one contradicts is dropped."""
    min_price = low if low is not None else constraints.min_price
    max_price = high if high is not None else constraints.max_price
    if min_price is not None and max_price is not None and min_price > max_price:
        if high is not None:
            min_price = None
        else:
            max_price = None
    return replace(constraints, min_price=min_price, max_price=max_price)


def _minor_unit(vocabulary: CatalogVocabulary) -> Decimal:
    return Decimal(1).scaleb(-vocabulary.minor_unit_exponent)


def _read(text: str, vocabulary: CatalogVocabulary, language: str | None) -> _Reading:
    reading = _Reading()
    rest = plain(text[:MAX_QUESTION_CHARS])
    rest = _take_prices(rest, reading, _minor_unit(vocabulary))
    rest = _take(rest, STOCK_PATTERN, lambda: setattr(reading, "in_stock", True))
    rest = _take(rest, CHEAPER_PATTERN, lambda: setattr(reading, "cheaper", True))
    rest = _take(rest, CHEAP_PATTERN, lambda: setattr(reading, "cheap", True))
    rest = _take(rest, OTHER_PATTERN, lambda: setattr(reading, "other", True))
    for segment in _segments(rest):
        tokens = _attributes(segment, vocabulary, reading)
        tokens = _glossed(tokens, language)
        _categories_and_terms(tokens, vocabulary, language, reading)
    return reading


_GAP = "\x00"
_SEGMENT_BREAK = re.compile(r"[\x00;:!?¿¡()\"|\u0964\u0965]|[.,](?=\s|$)")


def _segments(text: str) -> list[str]:
    """The text between the constraint phrases taken out and punctuation: words on both sides of a
    gap were never next to each other."""
    return [s for s in _SEGMENT_BREAK.split(text) if s.strip()]


def _take(text: str, pattern: re.Pattern[str], found: Callable[[], None]) -> str:
    def cut(_: re.Match[str]) -> str:
        found()
        return f" {_GAP} "

    return pattern.sub(cut, text)


def _take_prices(text: str, reading: _Reading, step: Decimal) -> str:
    for pattern, bound, strict in PRICE_PATTERNS:

        def cut(match: re.Match[str], bound: str = bound, strict: bool = strict) -> str:
            first = _number(match.group("a"))
            if first is None:
                return match.group(0)
            if bound == "range":
                second = _number(match.group("b"))
                if second is None:
                    return match.group(0)
                reading.min_price, reading.max_price = min(first, second), max(first, second)
            elif bound == "max":
                reading.max_price = first - step if strict else first
            else:
                reading.min_price = first + step if strict else first
            return f" {_GAP} "

        text = pattern.sub(cut, text)
    return text


_THOUSAND_WORD = re.compile(r"\s*(?:k|mil|हजार)$", re.IGNORECASE)


def _number(text: str) -> Decimal | None:
    """ "1,299.99", "1.299,99", "29,90", "१५००", "2 mil" as a number; a separator before three
    digits groups thousands, before one or two it is the decimal point."""
    multiplier = 1
    if _THOUSAND_WORD.search(text):
        multiplier = 1000
        text = _THOUSAND_WORD.sub("", text)
    digits = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text.strip())
    parts = re.split(r"[.,]", digits)
    separators = re.findall(r"[.,]", digits)
    if separators and len(parts[-1]) in (1, 2):
        whole, fraction = "".join(parts[:-1]), parts[-1]
    else:
        whole, fraction = "".join(parts), ""
    try:
        value = Decimal(f"{whole}.{fraction}" if fraction else whole) * multiplier
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _attributes(segment: str, vocabulary: CatalogVocabulary, reading: _Reading) -> list[_Token]:
    """The segment's words, with sizes, colours and brands taken out as constraints."""
    raw = WORD.findall(segment)
    folded = [w.casefold()[:-2] if w.casefold().endswith("'s") else w.casefold() for w in raw]
    tokens: list[_Token] = []
    i = 0
    while i < len(raw):
        taken = (
            _size_at(raw, folded, i, vocabulary, reading)
            or _colour_at(folded, i, reading)
            or _brand_at(folded, i, vocabulary, reading)
        )
        if taken:
            tokens.extend(_Token(raw[j], folded[j], "attribute") for j in range(i, i + taken))
            i += taken
            continue
        tokens.append(_Token(raw[i], folded[i]))
        i += 1
    return tokens


def _size_at(
    raw: Sequence[str], folded: Sequence[str], i: int, vocabulary: CatalogVocabulary, reading: _Reading
) -> int:
    """How many tokens from ``i`` name a size (and reading notes it); 0 when none do."""
    taken = _cued_size(folded, i)
    if taken is None:
        taken = _bare_size(raw, folded, i, vocabulary)
    if taken is None:
        return 0
    reading.add("size", taken[0])
    return taken[1]


def _cued_size(folded: Sequence[str], i: int) -> tuple[str, int] | None:
    """A size after its cue ("size M", "talla 40"), before one ("XL साइज़"), or after "in" as a word
    ("in medium"): any size, in the catalog or not."""
    if folded[i] in SIZE_CUES and i + 1 < len(folded):
        value = _size_value(folded, i + 1, regional=True)
        if value is not None:
            return value[0], value[1] + 1
    if i + 1 < len(folded) and folded[i + 1] in SIZE_CUES:
        value = _size_value(folded, i, regional=False)
        if value is not None and value[1] == 1:
            return value[0], 2
    if i > 0 and folded[i - 1] in LETTER_CUES and (folded[i],) in SIZE_WORDS:
        return SIZE_WORDS[(folded[i],)], 1
    for phrase, size in SIZE_WORDS.items():
        if len(phrase) > 1 and tuple(folded[i : i + len(phrase)]) == phrase:
            return size, len(phrase)
    return None


def _bare_size(
    raw: Sequence[str], folded: Sequence[str], i: int, vocabulary: CatalogVocabulary
) -> tuple[str, int] | None:
    """A letter size with no cue, when the catalog has it: "XL" anywhere; "M" written in capitals
    or after "in" ("in m"), and never after a number ("2 L" is litres)."""
    size = letter_size(folded[i])
    if size is None or size not in vocabulary.sizes:
        return None
    if len(size) > 1:
        return size, 1
    after_cue = i > 0 and folded[i - 1] in LETTER_CUES
    after_number = i > 0 and folded[i - 1][:1].isdigit()
    if not after_number and (raw[i].isupper() or after_cue):
        return size, 1
    return None


def _size_value(folded: Sequence[str], i: int, regional: bool) -> tuple[str, int] | None:
    for length in (2, 1):
        phrase = tuple(folded[i : i + length])
        if len(phrase) == length and phrase in SIZE_WORDS:
            return SIZE_WORDS[phrase], length
    word = folded[i]
    if regional and word.upper() in REGIONAL_SIZES and letter_size(word) is None:
        return REGIONAL_SIZES[word.upper()], 1
    size = letter_size(word) or numeric_size(word)
    return (size, 1) if size else None


def _colour_at(folded: Sequence[str], i: int, reading: _Reading) -> int:
    hit = colour_at(folded, i)
    if hit is None:
        return 0
    reading.add("color", hit[0])
    return hit[1]


def _brand_at(folded: Sequence[str], i: int, vocabulary: CatalogVocabulary, reading: _Reading) -> int:
    hit = vocabulary.brand_at(folded, i)
    if hit is None:
        return 0
    reading.add("brand", hit[0])
    return hit[1]


def _glossed(tokens: list[_Token], language: str | None) -> list[_Token]:
    """Words of other languages given their English, phrases first ("saco de dormir"); fillers marked."""
    languages = gloss_languages(language)
    out: list[_Token] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.role != "word":
            out.append(token)
            i += 1
            continue
        run = [t.folded for t in _words_from(tokens, i)]
        hit = gloss_at(run, 0, languages)
        if hit is not None:
            english, length = hit
            original = " ".join(t.text for t in tokens[i : i + length])
            out.append(_Token(original, " ".join(english), "word", english))
            i += length
            continue
        role: Literal["word", "filler"] = "filler" if token.folded in FILLERS else "word"
        out.append(replace(token, role=role))
        i += 1
    return out


def _words_from(tokens: Sequence[_Token], start: int) -> list[_Token]:
    """The plain words from ``start`` up to the next attribute: a phrase never spans one."""
    run = []
    for token in tokens[start:]:
        if token.role != "word":
            break
        run.append(token)
    return run


def _categories_and_terms(
    tokens: Sequence[_Token], vocabulary: CatalogVocabulary, language: str | None, reading: _Reading
) -> None:
    """Categories named in the (glossed) words become constraints; the words left are the terms.

    A category word that only qualifies another ("camping chair", "mochila para camping") is a
    product word, not a category.
    """
    items = [(t, w) for t in tokens for w in (t.gloss or (t.folded,))]
    english = [w for _, w in items]
    i = 0
    while i < len(items):
        token, word = items[i]
        if token.role != "word":
            i += 1
            continue
        hit = vocabulary.category_at(english, i)
        if (
            hit is not None
            and all(t.role == "word" for t, _ in items[i : i + hit[1]])
            and not _qualifies(items, i, hit[1], language)
        ):
            reading.add("category", hit[0])
            i += hit[1]
            continue
        if len(word) == 1 and not word.isdigit():
            i += 1  # a lone letter ("2 L bottle") names nothing a product is found by
            continue
        if word not in reading.terms:
            reading.terms.append(word)
        if token.text not in reading.words:
            reading.words.append(token.text)
        i += 1


def _qualifies(items: Sequence[tuple[_Token, str]], start: int, length: int, language: str | None) -> bool:
    """Whether the words at ``start`` qualify a neighbour rather than name the thing itself.

    English and Hindi put the qualifier first ("camping chair"), and so does an English gloss
    ("tapete de yoga": "yoga mat"); Spanish and Portuguese put it after a linker ("mochila para camping").
    """
    end = start + length
    after = items[end] if end < len(items) else None
    if after is not None and after[0] is items[end - 1][0] and after[0].role == "word":
        return True
    if language in ("es", "pt_BR"):
        before = items[start - 2 : start]
        return (
            len(before) == 2
            and before[1][0].role == "filler"
            and before[1][1] in _LINKERS
            and before[0][0].role == "word"
        )
    return after is not None and after[0].role == "word"
