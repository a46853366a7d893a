"""What a customer's message asks for, before any catalog is read (pure).

Taps come back with the ids the assistant gave its buttons and rows (``menu:browse``,
``cat:<key>``, ``show:<product id>``, ...); words are matched, in the four languages the assistant
speaks, only for the few commands a shop chat has (a greeting, the menu, browsing, "more", a
person, "the second one"). Everything else is a question for the catalog and the shop's FAQ.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from . import cart_words

if TYPE_CHECKING:
    from chatshop.messaging.inbound import InboundMessage

K = TypeVar("K", bound=str)

IntentKind = Literal[
    "greeting",
    "menu",
    "browse",
    "ask",
    "agent",
    "category",
    "categories_page",
    "more",
    "show",
    "order",
    "ordinal",
    "question",
    "cart",
    "cart_edit",
    "cart_empty",
    "add",
    "remove",
    "checkout",
    "orders",
    "cancel",
    "wa_order",
    "unsupported",
]

# Ids of what the assistant sends; each comes back as the tap's id.
MENU_BROWSE = "menu:browse"
MENU_ASK = "menu:ask"
MENU_AGENT = "menu:agent"
MENU = "menu:show"
MORE = "more"
CATEGORY_PREFIX = "cat:"
CATEGORIES_PAGE_PREFIX = "cats:"
SHOW_PREFIX = "show:"
ORDER_PREFIX = "order:"
# The cart and the customer's orders.
CART = "cart:show"
CART_EDIT = "cart:edit"
CART_EMPTY = "cart:empty"
CHECKOUT = "cart:checkout"
ORDERS = "orders:show"
ADD_PREFIX = "add:"
REMOVE_PREFIX = "rm:"
CANCEL_PREFIX = "cancel:"

_TAPS: dict[str, IntentKind] = {
    MENU_BROWSE: "browse",
    MENU_ASK: "ask",
    MENU_AGENT: "agent",
    MENU: "menu",
    MORE: "more",
    CART: "cart",
    CART_EDIT: "cart_edit",
    CART_EMPTY: "cart_empty",
    CHECKOUT: "checkout",
    ORDERS: "orders",
}
_PREFIXED: tuple[tuple[str, IntentKind], ...] = (
    (CATEGORY_PREFIX, "category"),
    (CATEGORIES_PAGE_PREFIX, "categories_page"),
    (SHOW_PREFIX, "show"),
    (ORDER_PREFIX, "order"),
    (ADD_PREFIX, "add"),
    (REMOVE_PREFIX, "remove"),
    (CANCEL_PREFIX, "cancel"),
)

# Whole messages (case, accents and punctuation aside) that are a command, per language.
_GREETINGS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "hii",
        "helo",
        "good morning",
        "good afternoon",
        "good evening",
        "hi there",
        "hello there",
        "hola",
        "buenas",
        "buenos dias",
        "buenas tardes",
        "buenas noches",
        "hola buenas",
        "que tal",
        "ola",
        "oi",
        "oie",
        "bom dia",
        "boa tarde",
        "boa noite",
        "namaste",
        "namaskar",
        "नमस्ते",
        "नमस्कार",
        "हेलो",
        "हाय",
    ]
)
_MENU_WORDS = frozenset(["menu", "start", "options", "inicio", "opciones", "opcoes", "comecar", "मेनू", "मेन्यू"])
_BROWSE_WORDS = frozenset(
    [
        "browse",
        "catalog",
        "catalogue",
        "categories",
        "products",
        "shop",
        "browse catalog",
        "show me the catalog",
        "catalogo",
        "categorias",
        "productos",
        "produtos",
        "ver catalogo",
        "कैटलॉग",
        "श्रेणियां",
        "सामान",
    ]
)
_MORE_WORDS = frozenset(
    [
        "more",
        "next",
        "show more",
        "see more",
        "mas",
        "ver mas",
        "mais",
        "ver mais",
        "और",
        "और दिखाओ",
        "और दिखाइए",
    ]
)
_ASK_WORDS = frozenset(
    ["ask a question", "question", "hacer una pregunta", "pregunta", "fazer uma pergunta", "pergunta"]
)

# "talk to a person": a verb of talking and a word for a person, or the person word alone.
_PERSON = (
    r"(person|human|agent|someone|somebody|staff|representative|rep|operator|"
    r"persona|humano|agente|asesor|alguien|pessoa|atendente|alguem|"
    r"इंसान|व्यक्ति|एजेंट|किसी)"
)
_TALK = r"(talk|speak|chat|connect|call|contact|hablar|habla|comunicar|falar|fala|बात)"
_AGENT = re.compile(
    rf"\b{_TALK}\b.*\b{_PERSON}\b|^(an? )?{_PERSON}( please)?$|^(real|live) (person|human|agent)"
    # Hindi puts the verb last, and its vowel signs are not word characters for \b.
    r"|(इंसान|व्यक्ति|एजेंट|किसी).*बात"
)

_ORDINAL_WORDS = {
    1: "first 1st primero primera primer primeiro primeira पहला पहली पहले",
    2: "second 2nd segundo segunda दूसरा दूसरी दूसरे",
    3: "third 3rd tercero tercera tercer terceiro terceira तीसरा तीसरी तीसरे",
    4: "fourth 4th cuarto cuarta quarto quarta चौथा चौथी",
    5: "fifth 5th quinto quinta पांचवां पांचवीं",
}
_ORDINALS = {word: n for n, words in _ORDINAL_WORDS.items() for word in words.split()}
_ORDINAL_FILLER = frozenset(
    "the one i want show me number no option please that el la lo uno una quiero o a um uma quero".split()  # noqa: SIM905
    + ["वाला", "वाली", "वो", "यह"]
)
_LAST_WORDS = frozenset(["last", "ultimo", "ultima", "आखिरी"])


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    value: str | None = None
    # How many, for "add 2" and "remove 1 ..." (None: one to add, the whole line to remove); with
    # words, ``value`` is what names the product.
    quantity: int | None = None
    words: bool = False


def from_tap(reply_id: str | None) -> Intent | None:
    """The intent of a button or row the assistant sent; None for an id it does not know."""
    if not reply_id:
        return None
    if reply_id in _TAPS:
        return Intent(_TAPS[reply_id])
    for prefix, kind in _PREFIXED:
        if reply_id.startswith(prefix) and len(reply_id) > len(prefix):
            return Intent(kind, reply_id[len(prefix) :])
    return None


def from_text(text: str) -> Intent:
    """The intent of words a customer wrote; a question unless they are one of the commands."""
    words = normalised(text)
    if not words:
        return Intent("unsupported")
    if words in _GREETINGS:
        return Intent("greeting")
    if words in _MENU_WORDS:
        return Intent("menu")
    if words in _BROWSE_WORDS:
        return Intent("browse")
    if words in _MORE_WORDS:
        return Intent("more")
    if words in _ASK_WORDS:
        return Intent("ask")
    if _AGENT.search(words):
        return Intent("agent")
    said = cart_words.command(text)
    if said is not None:
        return _cart_intent(said)
    ordinal = _ordinal(words)
    if ordinal is not None:
        return Intent("ordinal", str(ordinal))
    return Intent("question", " ".join(text.split()))


_CART_KINDS: dict[str, IntentKind] = {
    "show": "cart",
    "empty": "cart_empty",
    "checkout": "checkout",
    "orders": "orders",
    "cancel": "cancel",
    "add": "add",
    "remove": "remove",
}


def _cart_intent(said: cart_words.CartCommand) -> Intent:
    return Intent(_CART_KINDS[said.kind], said.what, said.quantity, words=True)


def command_of(message: InboundMessage, taps: Mapping[str, K], phrases: Mapping[str, K]) -> K | None:
    """Which of a confirmed command's steps a message is: the tap of one of ``taps``' button ids, or a
    text that is, case, accents and punctuation aside, one of ``phrases`` (already ``normalised``);
    None when it is about something else."""
    if message.button is not None:
        return taps.get(message.button.id or "")
    if message.type != "text" or not message.text:
        return None
    return phrases.get(normalised(message.text))


def normalised(text: str) -> str:
    """Case-folded words without accents or punctuation (Devanagari's vowel signs are kept)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for ch in folded:
        category = unicodedata.category(ch)
        if category == "Mn" and not _devanagari(ch):
            continue  # an accent: "catálogo" is "catalogo"
        kept.append(ch if category[0] in "LNM" else " ")
    return unicodedata.normalize("NFC", " ".join("".join(kept).split()))


def _devanagari(ch: str) -> bool:
    return "\u0900" <= ch <= "\u097f"


def _ordinal(words: str) -> int | None:
    """1 for "the first one", 2 for "#2" or "el segundo", -1 for "the last one"; else None."""
    tokens = [t for t in words.split() if t not in _ORDINAL_FILLER]
    if len(tokens) != 1:
        return None
    token = tokens[0]
    if token in _LAST_WORDS:
        return -1
    if token in _ORDINALS:
        return _ORDINALS[token]
    if token.isdigit() and 1 <= int(token) <= 30 and len(words.split()) <= 3:
        return int(token)
    return None
