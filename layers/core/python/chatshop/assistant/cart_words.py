"""What a customer writes about the cart and their orders, in the assistant's four languages (pure).

"cart", "add 2", "2 of the socks", "añade 3 calcetines", "adiciona 2 meias", "2 मोज़े जोड़ो",
"remove the socks", "empty the cart", "checkout", "where is my order", "cancel": a
:class:`CartCommand`, or None for anything else (a question for the catalog). Only whole commands
are read: a sentence that merely mentions an order ("do you ship orders abroad?") is a question.
The words come folded as :func:`chatshop.assistant.vocabulary.words` folds them (no case, no
Latin accents, one spelling of Hindi).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .vocabulary import words

CartKind = Literal["add", "remove", "show", "empty", "checkout", "orders", "cancel"]


@dataclass(frozen=True)
class CartCommand:
    kind: CartKind
    quantity: int | None = None
    # The words naming the product ("the blue socks"); None: the one just shown.
    what: str | None = None


def _phrases(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(words(phrase)) for line in lines for phrase in line.split("|"))


_SHOW = _phrases(
    "cart|my cart|the cart|view cart|view my cart|see cart|see my cart|show cart|show my cart",
    "basket|my basket",
    "carrito|mi carrito|el carrito|ver carrito|ver mi carrito|ver el carrito|carro|mi carro",
    "carrinho|meu carrinho|o carrinho|ver carrinho|ver meu carrinho|ver o carrinho|sacola|minha sacola",
    "कार्ट|मेरा कार्ट|कार्ट दिखाओ|कार्ट दिखाइए|मेरा कार्ट दिखाओ",
)
_EMPTY = _phrases(
    "empty cart|empty my cart|empty the cart|clear cart|clear my cart|clear the cart",
    "vaciar carrito|vaciar el carrito|vaciar mi carrito|vacia el carrito|vacia mi carrito|borrar carrito",
    "esvaziar carrinho|esvaziar o carrinho|esvaziar meu carrinho|esvazia o carrinho|limpar carrinho|"
    "limpar o carrinho",
    "कार्ट खाली करो|कार्ट खाली करें|कार्ट खाली कर दो|कार्ट खाली",
)
_CHECKOUT = _phrases(
    "checkout|check out|order|place order|place my order|place the order|order now|buy|buy now|"
    "confirm order|confirm my order|i want to order|i want to pay|pay",
    "pagar|comprar|hacer pedido|hacer el pedido|hacer mi pedido|realizar pedido|finalizar compra|"
    "confirmar pedido|ordenar|quiero pagar|quiero comprar|quiero pedir",
    "finalizar|finalizar compra|finalizar pedido|fazer pedido|fazer o pedido|fazer meu pedido|"
    "fechar pedido|confirmar o pedido|quero pagar|quero comprar",
    "ऑर्डर|ऑर्डर करो|ऑर्डर करें|ऑर्डर कर दो|चेकआउट|खरीदो|खरीदें|पेमेंट|भुगतान",
)
_ORDERS = _phrases(
    "my order|my orders|where is my order|wheres my order|where's my order|order status|"
    "status of my order|my order status|track order|track my order|has my order shipped",
    "mi pedido|mis pedidos|donde esta mi pedido|estado de mi pedido|estado del pedido|"
    "seguir mi pedido|mi orden|donde esta mi orden",
    "meu pedido|meus pedidos|onde esta meu pedido|cade meu pedido|status do pedido|"
    "status do meu pedido|rastrear pedido|rastrear meu pedido",
    "मेरा ऑर्डर|मेरे ऑर्डर|मेरा ऑर्डर कहां है|मेरा ऑर्डर कहाँ है|ऑर्डर कहां है|ऑर्डर कहाँ है|ऑर्डर स्टेटस|ऑर्डर की स्थिति",
)
_CANCEL = _phrases(
    "cancel|cancel order|cancel my order|cancel the order|cancel it",
    "cancelar|cancelar pedido|cancelar el pedido|cancelar mi pedido|cancela mi pedido|cancelalo",
    "cancelar o pedido|cancelar meu pedido|cancela meu pedido|cancelar a compra",
    "रद्द करो|रद्द करें|ऑर्डर रद्द करो|ऑर्डर रद्द करें|ऑर्डर कैंसल करो|कैंसल|कैंसल करो",
)

# Verbs that begin "add ..." and "remove ..." (Hindi ends with them: "दो मोज़े जोड़ो").
_ADD_FIRST = _phrases(
    "add|put|add in|i'll take|ill take|i will take",
    "agregar|agrega|agregame|agregue|anadir|anade|anademe|pon|ponme|poner|sumar|suma|me llevo",
    "adicionar|adiciona|adicione|coloca|coloque|colocar|bota|poe|vou levar|levo",
)
_ADD_LAST = _phrases("जोड़ो|जोड़ें|जोड़िए|जोड़ दो|डालो|डालें|डाल दो")
_REMOVE_FIRST = _phrases(
    "remove|delete|take out|drop",
    "quitar|quita|quitame|quite|eliminar|elimina|sacar|saca|borrar|borra",
    "remover|remove|remova|tirar|tira|tire|excluir|exclui|exclua",
)
_REMOVE_LAST = _phrases("हटाओ|हटाएं|हटा दो|हटाइए|निकालो|निकाल दो")
# Where the thing goes or comes from: "to my cart", "del carrito", "कार्ट में".
_CART_PLACES = _phrases(
    "to cart|to my cart|to the cart|in my cart|in the cart|from cart|from my cart|from the cart",
    "al carrito|a mi carrito|en el carrito|en mi carrito|del carrito|de mi carrito",
    "ao carrinho|no carrinho|no meu carrinho|do carrinho|do meu carrinho",
    "कार्ट में|कार्ट से|मेरे कार्ट में|मेरे कार्ट से",
)
# "2 of the socks", "2 de los calcetines", "2 das meias", "2 x socks".
_OF = frozenset({"of", "de", "del", "do", "da", "dos", "das", "x"})

_NUMBER_WORDS = {
    word: n
    for n, line in enumerate(
        [
            "one a an uno una un um uma एक",
            "two dos dois duas दो",
            "three tres तीन",
            "four cuatro quatro चार",
            "five cinco पांच",
            "six seis छह छः",
            "seven siete sete सात",
            "eight ocho oito आठ",
            "nine nueve nove नौ",
            "ten diez dez दस",
        ],
        start=1,
    )
    for word in " ".join(words(line)).split()
}


def command(text: str) -> CartCommand | None:
    """The cart or order command ``text`` is, or None."""
    tokens = words(text)
    if not tokens:
        return None
    phrase = " ".join(tokens)
    for kind, phrases in (
        ("show", _SHOW),
        ("empty", _EMPTY),
        ("checkout", _CHECKOUT),
        ("orders", _ORDERS),
        ("cancel", _CANCEL),
    ):
        if phrase in phrases:
            return CartCommand(kind)  # type: ignore[arg-type]
    for kind, first, last in (("add", _ADD_FIRST, _ADD_LAST), ("remove", _REMOVE_FIRST, _REMOVE_LAST)):
        rest = _after_verb(tokens, first, last)
        if rest is not None:
            return _with_quantity(kind, _without_place(rest))  # type: ignore[arg-type]
    # "2 of the socks": a number and "of" are an order of that many.
    if len(tokens) >= 3 and tokens[1] in _OF and quantity(tokens[0]) is not None:
        return CartCommand("add", quantity(tokens[0]), " ".join(tokens[2:]))
    return None


def quantity(token: str) -> int | None:
    """ "3", "३", "three", "tres", "तीन" as a number of items; None for anything else."""
    if token.isdigit():
        return int(token)
    if token.startswith("x") and token[1:].isdigit():
        return int(token[1:])  # "x2"
    return _NUMBER_WORDS.get(token)


def _after_verb(tokens: list[str], first: frozenset[str], last: frozenset[str]) -> list[str] | None:
    for size in (3, 2, 1):
        if len(tokens) >= size and " ".join(tokens[:size]) in first:
            return tokens[size:]
        if len(tokens) >= size and " ".join(tokens[-size:]) in last:
            return tokens[:-size]
    return None


def _without_place(tokens: list[str]) -> list[str]:
    for size in (3, 2):
        if len(tokens) >= size and " ".join(tokens[-size:]) in _CART_PLACES:
            return tokens[:-size]
        if len(tokens) >= size and " ".join(tokens[:size]) in _CART_PLACES:
            return tokens[size:]
    return tokens


def _with_quantity(kind: Literal["add", "remove"], tokens: list[str]) -> CartCommand:
    count: int | None = None
    rest = list(tokens)
    # The number comes first ("add 2 socks"), or last ("add socks x2", "मोज़े 2 जोड़ो" reads
    # "socks 2" once the verb is gone).
    if rest and quantity(rest[0]) is not None and not (len(rest) == 1 and rest[0] in ("a", "an")):
        count = quantity(rest.pop(0))
        if rest and rest[0] in _OF:
            rest.pop(0)
    elif rest and (rest[-1].isdigit() or (rest[-1].startswith("x") and rest[-1][1:].isdigit())):
        count = quantity(rest.pop())
    return CartCommand(kind, count, " ".join(rest) or None)
