"""What a shop's catalog can be asked for: its colours, sizes, brands and categories, and the words
customers use for them in the assistant's languages (en, es, pt_BR, hi).

Products carry no colour or size fields; both are read from the words a merchant wrote, the way a
customer reads them: "Merino socks - blue - M" is blue and size M. A title names what the product
is, so the colour of the title (and of the category) counts, and the description only when those
name none ("pairs well with blue jeans" is no colour of a sock titled red). Brand and category come
from their own fields; a category is each step of Meta's ``Apparel > Socks`` paths.

Customers ask in their language about a catalog written in another (an Indian shop's catalog is in
English, its customers write Hindi), and the text model reads English only; so the words that name
products and what they are made of are glossed into English here, and colour words of every
language map to one English name.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from chatshop.platform.iso import CURRENCY_EXPONENTS
from chatshop.shops.domain import Product

Phrase = tuple[str, ...]

_DEVANAGARI = "\u0900-\u0963\u0966-\u097f"  # letters, signs and digits; not the dandas
_LETTER = rf"(?:[^\W_]|[{_DEVANAGARI}])"
# Python's \w stops at Devanagari vowel signs, so they are named: "नीला" is one word, not "न" "ल".
WORD = re.compile(rf"\d+(?:[.,]\d+)+|{_LETTER}+(?:['\-]{_LETTER}+)*")
_NUKTA = "\u093c"
_CHANDRABINDU, _ANUSVARA = "\u0901", "\u0902"


# --- Words ------------------------------------------------------------------------------------------


def plain(text: str) -> str:
    """NFKC, Latin accents dropped ("más" -> "mas"), Hindi spelled one way; case kept.

    Hindi writers drop the nukta (फ़ोन, फोन) and swap chandrabindu and anusvara (हूँ, हूं) freely, so
    both are folded; the vowel signs stay, they are the word.
    """
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2010", "-")
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not "\u0300" <= ch <= "\u036f" and ch != _NUKTA)
    return unicodedata.normalize("NFC", kept.replace(_CHANDRABINDU, _ANUSVARA))


def fold(text: str) -> str:
    return plain(text).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text`` in order; a possessive 's is no part of its word."""
    found = WORD.findall(fold(text))
    return [w[:-2] if w.endswith("'s") else w for w in found]


def singular(word: str) -> str:
    """An English plural's singular, roughly: "shoes", "boxes", "batteries" -> "shoe", "box", "battery".

    Used on both sides of a comparison, so what matters is that it is the same on both.
    """
    if len(word) <= 3 or not word.isascii():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ie"):  # "hoodie" and "hoodies" must meet: both end as "hoody"
        return word[:-2] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> frozenset[str]:
    """The singular words of ``text``, and the parts of hyphenated ones ("t-shirts": "t-shirt", "shirt")."""
    found: set[str] = set()
    for word in words(text):
        found.add(singular(word))
        if "-" in word:
            found.update(singular(part) for part in word.split("-") if len(part) > 1)
    return frozenset(found)


def forms(word: str) -> tuple[str, ...]:
    """A word as written and without a Spanish or Portuguese plural ending, to look it up by."""
    found = [word]
    if len(word) > 3 and word.endswith("s"):
        found.append(word[:-1])
        if word.endswith("es"):
            found.append(word[:-2])
    return tuple(found)


# --- Colours ----------------------------------------------------------------------------------------

# Words that are colours and almost nothing else in a shop; "cream", "rose" and "olive" are left
# out, because "face cream", "rose perfume" and "olive oil" name no colour.
_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "negro", "negra", "preto", "preta", "काला", "काली", "काले", "ब्लैक"),
    "white": ("white", "blanco", "blanca", "branco", "branca", "सफेद", "व्हाइट"),
    "grey": ("grey", "gray", "charcoal", "gris", "cinza", "cinzento", "cinzenta", "स्लेटी", "ग्रे", "धूसर"),
    "red": ("red", "rojo", "roja", "vermelho", "vermelha", "लाल", "रेड"),
    "blue": ("blue", "azul", "azuis", "नीला", "नीली", "नीले", "ब्लू"),
    "navy": ("navy", "navy blue", "azul marino", "marino", "azul-marinho", "azul marinho", "marinho", "नेवी"),
    "green": ("green", "verde", "हरा", "हरी", "हरे", "ग्रीन"),
    "yellow": ("yellow", "amarillo", "amarilla", "amarelo", "amarela", "पीला", "पीली", "पीले", "येलो"),
    "orange": ("orange", "naranja", "anaranjado", "anaranjada", "laranja", "नारंगी", "ऑरेंज"),
    "pink": ("pink", "rosa", "rosado", "rosada", "cor-de-rosa", "गुलाबी", "पिंक"),
    "purple": ("purple", "violet", "morado", "morada", "violeta", "roxo", "roxa", "बैंगनी", "जामुनी", "पर्पल"),
    "brown": ("brown", "marron", "marrom", "marrons", "castano", "castanho", "भूरा", "भूरी", "भूरे", "ब्राउन"),
    "beige": ("beige", "bege", "बेज"),
    "gold": ("gold", "golden", "dorado", "dorada", "dourado", "dourada", "सुनहरा", "सुनहरी", "सुनहरे", "गोल्डन"),
    "silver": ("silver", "plateado", "plateada", "prateado", "prateada", "चांदी", "सिल्वर"),
}
# A shade is its colour too: navy socks are blue socks, not the other way round.
COLOUR_FAMILY = {"navy": "blue"}
COLOURS: Mapping[Phrase, str] = {
    tuple(words(phrase)): colour for colour, phrases in _COLOUR_WORDS.items() for phrase in phrases
}


def colour_at(tokens: Sequence[str], start: int) -> tuple[str, int] | None:
    """The colour named at ``tokens[start]``, and how many tokens name it; longest phrase first."""
    for length in (2, 1):
        phrase = tuple(tokens[start : start + length])
        if len(phrase) < length:
            continue
        for candidate in _phrase_forms(phrase):
            if candidate in COLOURS:
                return COLOURS[candidate], length
    return None


def _phrase_forms(phrase: Phrase) -> Iterable[Phrase]:
    """The phrase, then with its last word's plural ending dropped ("azules" -> "azul")."""
    yield phrase
    for form in forms(phrase[-1])[1:]:
        yield (*phrase[:-1], form)


def _colours_in(tokens: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(len(tokens)):
        hit = colour_at(tokens, start)
        if hit is not None:
            found.add(hit[0])
    return found


def colours_of(product: Product) -> frozenset[str]:
    """The product's colours, with the colour each shade belongs to."""
    found = _colours_in(words(f"{product.title} {product.category or ''}")) or _colours_in(
        words(product.description)
    )
    return frozenset(found | {COLOUR_FAMILY[c] for c in found if c in COLOUR_FAMILY})


# --- Sizes ------------------------------------------------------------------------------------------

LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
_SIZE_ALIASES = {"2XL": "XXL", "3XL": "XXXL", "2XS": "XXS", "XXXXL": "XXXL"}
# Brazilian and Mexican letters, read only after "tamanho"/"talla": alone, "G" or "P" is no size.
REGIONAL_SIZES = {"PP": "XS", "P": "S", "G": "L", "GG": "XL", "XG": "XXL", "CH": "S", "EG": "XL"}
SIZE_WORDS: Mapping[Phrase, str] = {
    tuple(words(phrase)): size
    for size, phrases in {
        "S": ("small", "pequeno", "pequena", "chico", "chica", "छोटा", "छोटी", "छोटे"),
        "M": ("medium", "mediano", "mediana", "medio", "media", "मध्यम", "मीडियम"),
        "L": ("large", "grande", "बड़ा", "बड़ी", "बड़े", "लार्ज"),
        "XL": ("extra large", "extra-large", "x-large", "extra grande", "extragrande"),
        "XXL": ("xx-large", "extra extra large"),
    }.items()
    for phrase in phrases
}
_NUMERIC_SIZE = re.compile(r"^\d{1,2}(?:[.,]5)?$")
_MULTI_LETTER_SIZE = re.compile(r"^(?:X{1,3}[SL]|[23]X[SL]|XXXXL)$")
_SIZE_MARK = re.compile(r"(?i)(?:size|talla|tamanho|taille)\s*:?\s*([0-9]{1,2}(?:[.,]5)?|[A-Z0-9]{1,5})\b")
_SEGMENTS = re.compile(r"\s+[-\u2013\u2014|/]\s+|[,;()\[\]]")


def letter_size(token: str) -> str | None:
    """ "m", "XL", "2xl" as a letter size; None for anything else."""
    upper = token.upper()
    upper = _SIZE_ALIASES.get(upper, upper)
    return upper if upper in LETTER_SIZES else None


def numeric_size(token: str) -> str | None:
    """ "10", "9.5", "9,5" as a size; a number of three digits is never one (a price, a volume)."""
    if not _NUMERIC_SIZE.match(token):
        return None
    return token.replace(",", ".")


def _segment_sizes(segment: str) -> set[str]:
    """A title segment that is a size and nothing else: "M", "10", "S/M", "EU 42", "Size 9.5"."""
    text = segment.strip()
    text = re.sub(r"(?i)^(?:size|us|eu|uk)\s*:?\s*", "", text)
    parts = [p for p in re.split(r"\s*/\s*", text) if p]
    found = {letter_size(p) or numeric_size(p) for p in parts}
    return set() if None in found or not found else {s for s in found if s}


def sizes_of(product: Product) -> frozenset[str]:
    """Sizes the title states as one of its segments, or that a "size" mark names anywhere.

    Letters alone inside running text are not read: "1 L bottle" and "vitamin C" name no size.
    """
    found: set[str] = set()
    for segment in _SEGMENTS.split(product.title):
        found |= _segment_sizes(segment)
    for text in (product.title, product.description):
        for match in _SIZE_MARK.finditer(plain(text)):
            value = match.group(1)
            size = letter_size(value) or numeric_size(value)
            if size:
                found.add(size)
    for token in WORD.findall(plain(product.title)):
        if _MULTI_LETTER_SIZE.match(token):
            found.add(letter_size(token) or token)
    return frozenset(found)


# --- Brands and categories ---------------------------------------------------------------------------


def phrase_of(text: str) -> Phrase:
    """A name as the singular words it is matched by ("Running Shoes" -> ("running", "shoe"))."""
    return tuple(singular(w) for w in words(text) if w not in ("and", "&"))


def brand_of(product: Product) -> str | None:
    brand = (product.brand or "").strip()
    return brand or None


def categories_of(product: Product) -> tuple[str, ...]:
    """Every step of the product's category path, as written: ("Apparel", "Socks")."""
    return tuple(step.strip() for step in (product.category or "").split(">") if step.strip())


def same_name(a: str, b: str) -> bool:
    return phrase_of(a) == phrase_of(b)


def in_stock_now(product: Product) -> bool:
    """Can be had now: in stock, and not counted out. "Available for order" and "preorder" ship later."""
    return product.availability == "in stock" and (product.inventory is None or product.inventory > 0)


# --- Product words in other languages ---------------------------------------------------------------

# The common words of the catalog's trade, by language: product kinds, what they are made of and what
# they are for, one English meaning a line. A phrase ("saco de dormir") is glossed whole before its words.
_GLOSSARY = {
    "es": """
        calcetin, calcetines, medias: socks
        camiseta, playera, remera: t-shirt
        camisa: shirt
        sudadera, buzo: hoodie
        chaqueta, chamarra, campera: jacket
        abrigo: coat
        vestido: dress
        falda: skirt
        pantalon, pantalones: pants
        vaqueros: jeans
        sueter, jersey: sweater
        gorro: beanie
        gorra: cap
        bufanda: scarf
        guantes: gloves
        mallas: leggings
        zapato, zapatos: shoes
        zapatilla, zapatillas, tenis: sneakers
        zapatillas para correr, zapatillas de correr, zapatillas de running, tenis para correr: running shoes
        bota, botas: boots
        sandalia, sandalias, chanclas: sandals
        taza, tazas: mug
        vaso: glass
        sarten: frying pan
        olla: pot
        hervidor, tetera: kettle
        cuchillo: knife
        cafetera: coffee maker
        toalla: towel
        sabana, sabanas: sheets
        almohada: pillow
        cojin: cushion
        funda de cojin: cushion cover
        manta, cobija: blanket
        lampara: lamp
        vela: candle
        maceta: planter
        reloj de pared: wall clock
        tienda de campana, carpa, casa de campana: tent
        saco de dormir, bolsa de dormir: sleeping bag
        mochila: backpack
        botella: bottle
        botella de agua: water bottle
        termo: insulated bottle
        linterna frontal: headlamp
        silla de camping: camping chair
        hornillo: stove
        nevera portatil: cooler
        auriculares, audifonos, cascos: headphones
        auriculares inalambricos: wireless earbuds
        altavoz, parlante, bocina: speaker
        cargador: charger
        funda: case
        funda de telefono, funda de celular, funda para telefono, funda para celular: phone case
        reloj: watch
        reloj inteligente: smartwatch
        pulsera de actividad: fitness tracker
        teclado: keyboard
        raton: mouse
        bateria externa: power bank
        crema: cream
        crema facial: face cream
        protector solar: sunscreen
        champu: shampoo
        acondicionador: conditioner
        labial, pintalabios: lipstick
        esmalte, esmalte de unas: nail polish
        maquillaje: makeup
        cepillo: brush
        esterilla, tapete: mat
        esterilla de yoga, tapete de yoga: yoga mat
        mancuernas: dumbbells
        inalambrico, inalambricos: wireless
        impermeable: waterproof
        lana: wool
        algodon: cotton
        cuero: leather
        correr: running
        senderismo: hiking
        cocina: kitchen
        hombre: men
        mujer: women
        ninos: kids
        regalo: gift
        invierno: winter
        verano: summer
        playa: beach
        viaje: travel
        electronica: electronics
        belleza: beauty
        hogar: home
        ropa: apparel
        calzado: footwear
        acampar: camping
    """,
    "pt_BR": """
        meia, meias: socks
        camiseta: t-shirt
        camisa: shirt
        moletom: hoodie
        jaqueta: jacket
        casaco: coat
        vestido: dress
        saia: skirt
        calca, calcas: pants
        sueter: sweater
        gorro: beanie
        bone: cap
        cachecol: scarf
        luvas: gloves
        legging: leggings
        sapato, sapatos: shoes
        tenis: sneakers
        tenis de corrida, tenis para correr: running shoes
        tenis de caminhada: hiking shoes
        bota, botas: boots
        sandalia, sandalias, chinelo: sandals
        caneca, canecas: mug
        xicara: cup
        copo: glass
        frigideira: frying pan
        panela: pot
        chaleira: kettle
        faca: knife
        toalha: towel
        lencol, lencois: sheets
        travesseiro: pillow
        almofada: cushion
        cobertor, manta: blanket
        luminaria, abajur: lamp
        vela: candle
        vaso de planta: planter
        relogio de parede: wall clock
        barraca, barracas: tent
        saco de dormir: sleeping bag
        mochila: backpack
        garrafa: bottle
        garrafa de agua: water bottle
        garrafa termica: insulated bottle
        lanterna de cabeca: headlamp
        cadeira de camping: camping chair
        fogareiro: stove
        caixa termica: cooler
        fone, fones, fone de ouvido, fones de ouvido: headphones
        caixa de som: speaker
        carregador: charger
        cabo: cable
        capa: case
        capinha, capinha de celular, capa de celular: phone case
        relogio: watch
        relogio inteligente: smartwatch
        pulseira fitness: fitness tracker
        teclado: keyboard
        carregador portatil, bateria externa: power bank
        creme: cream
        creme facial: face cream
        hidratante: moisturizer
        protetor solar: sunscreen
        xampu: shampoo
        condicionador: conditioner
        batom: lipstick
        esmalte: nail polish
        maquiagem: makeup
        escova: brush
        tapete: mat
        tapete de yoga, tapete de ioga: yoga mat
        halteres: dumbbells
        sem fio: wireless
        impermeavel: waterproof
        algodao: cotton
        couro: leather
        corrida: running
        trilha, caminhada: hiking
        cozinha: kitchen
        masculino: men
        feminino: women
        infantil: kids
        presente: gift
        inverno: winter
        verao: summer
        praia: beach
        viagem: travel
        eletronico, eletronicos: electronics
        beleza: beauty
        casa: home
        roupa, roupas: apparel
        calcados: footwear
        acampamento: camping
    """,
    "hi": """
        मोजे, मोजा, जुराब, जुराबें: socks
        टी-शर्ट, टीशर्ट: t-shirt
        शर्ट, कमीज: shirt
        हुडी: hoodie
        जैकेट: jacket
        कोट: coat
        ड्रेस, पोशाक: dress
        स्कर्ट: skirt
        पैंट: pants
        जींस, जीन्स: jeans
        स्वेटर: sweater
        टोपी: cap
        दस्ताने: gloves
        जूते, जूता: shoes
        स्नीकर, स्नीकर्स: sneakers
        रनिंग शूज, रनिंग जूते, दौड़ने के जूते: running shoes
        बूट, बूट्स: boots
        सैंडल, चप्पल: sandals
        मग: mug
        कप: cup
        गिलास: glass
        कड़ाही, फ्राइंग पैन: frying pan
        केतली: kettle
        चाकू: knife
        तौलिया: towel
        चादर: sheets
        तकिया: pillow
        कुशन: cushion
        कंबल: blanket
        लैंप: lamp
        मोमबत्ती: candle
        गमला: planter
        घड़ी: watch
        दीवार घड़ी: wall clock
        टेंट, तंबू: tent
        स्लीपिंग बैग: sleeping bag
        बैग: bag
        बैकपैक, बस्ता: backpack
        बोतल: bottle
        पानी की बोतल: water bottle
        हेडलैंप: headlamp
        स्टोव: stove
        हेडफोन, हेडफोन्स: headphones
        ईयरबड्स, ईयरफोन: earbuds
        स्पीकर: speaker
        चार्जर: charger
        केबल: cable
        कवर: case
        फोन कवर, मोबाइल कवर: phone case
        स्मार्टवॉच, स्मार्ट घड़ी: smartwatch
        फिटनेस बैंड: fitness tracker
        कीबोर्ड: keyboard
        माउस: mouse
        पावर बैंक: power bank
        क्रीम: cream
        फेस क्रीम: face cream
        सनस्क्रीन: sunscreen
        शैम्पू: shampoo
        परफ्यूम, इत्र: perfume
        लिपस्टिक: lipstick
        नेल पॉलिश: nail polish
        मेकअप: makeup
        योगा मैट, योग मैट: yoga mat
        डम्बल: dumbbells
        वायरलेस: wireless
        वाटरप्रूफ: waterproof
        ऊनी, ऊन: wool
        सूती: cotton
        चमड़े, चमड़ा: leather
        रसोई: kitchen
        पुरुष, पुरुषों: men
        महिला, महिलाओं: women
        बच्चों: kids
        उपहार, तोहफा: gift
        सर्दी, सर्दियों: winter
        गर्मी: summer
        यात्रा: travel
        इलेक्ट्रॉनिक्स: electronics
        ब्यूटी: beauty
        कैंपिंग: camping
    """,
}


def _glossary(lines: str) -> dict[Phrase, tuple[str, ...]]:
    entries: dict[Phrase, tuple[str, ...]] = {}
    for line in lines.strip().splitlines():
        phrases, english = line.rsplit(":", 1)
        for phrase in phrases.split(","):
            entries[tuple(words(phrase))] = tuple(words(english))
    return entries


GLOSSARY: Mapping[str, Mapping[Phrase, tuple[str, ...]]] = {
    language: _glossary(lines) for language, lines in _GLOSSARY.items()
}
_LONGEST_GLOSS = max(len(k) for entries in GLOSSARY.values() for k in entries)


def gloss_languages(language: str | None) -> tuple[str, ...]:
    """Where a question's words are looked up: its own language first, then the others (people mix
    them). An English question only in Hindi: a Latin word of an English question is English
    ("jersey" is no sweater there), a Devanagari one is not."""
    if language == "en":
        return ("hi",)
    own = (language,) if language in GLOSSARY else ()
    return (*own, *(lang for lang in GLOSSARY if lang not in own))


def gloss_at(
    tokens: Sequence[str], start: int, languages: Sequence[str]
) -> tuple[tuple[str, ...], int] | None:
    """The English words for the longest phrase at ``tokens[start]``, and how many tokens it takes."""
    for length in range(min(_LONGEST_GLOSS, len(tokens) - start), 0, -1):
        phrase = tuple(tokens[start : start + length])
        for lang in languages:
            for candidate in _phrase_forms(phrase):
                english = GLOSSARY[lang].get(candidate)
                if english is not None:
                    return english, length
    return None


# --- The catalog's vocabulary -------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogVocabulary:
    """The attributes a catalog's products have, by the phrases a customer would name them with."""

    colours: frozenset[str] = frozenset()
    sizes: frozenset[str] = frozenset()
    brands: Mapping[Phrase, str] = field(default_factory=dict)
    categories: Mapping[Phrase, str] = field(default_factory=dict)
    currency: str | None = None

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> CatalogVocabulary:
        colours: set[str] = set()
        sizes: set[str] = set()
        brands: dict[Phrase, Counter[str]] = {}
        categories: dict[Phrase, Counter[str]] = {}
        currencies: Counter[str] = Counter()
        for product in products:
            colours |= colours_of(product)
            sizes |= sizes_of(product)
            currencies[product.price.currency] += 1
            brand = brand_of(product)
            if brand and phrase_of(brand):
                brands.setdefault(phrase_of(brand), Counter())[brand] += 1
            for step in categories_of(product):
                if phrase_of(step):
                    categories.setdefault(phrase_of(step), Counter())[step] += 1
        return cls(
            colours=frozenset(colours),
            sizes=frozenset(sizes),
            brands={phrase: _usual(names) for phrase, names in brands.items()},
            categories={phrase: _usual(names) for phrase, names in categories.items()},
            currency=currencies.most_common(1)[0][0] if currencies else None,
        )

    @property
    def minor_unit_exponent(self) -> int:
        """Decimal places of the catalog's currency: what "under 30" is one minor unit below."""
        return CURRENCY_EXPONENTS.get(self.currency or "", 2)

    def brand_at(self, tokens: Sequence[str], start: int) -> tuple[str, int] | None:
        return _name_at(self.brands, tokens, start)

    def category_at(self, tokens: Sequence[str], start: int) -> tuple[str, int] | None:
        return _name_at(self.categories, tokens, start)


def _usual(names: Counter[str]) -> str:
    """The spelling most products use; ties go to the first in alphabetical order, for stability."""
    return sorted(names.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _name_at(names: Mapping[Phrase, str], tokens: Sequence[str], start: int) -> tuple[str, int] | None:
    longest = max((len(p) for p in names), default=0)
    for length in range(min(longest, len(tokens) - start), 0, -1):
        phrase = tuple(singular(t) for t in tokens[start : start + length])
        if phrase in names:
            return names[phrase], length
    return None
