"""What customers write about the cart and their orders, in the assistant's four languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatshop.assistant import cart as carts
from chatshop.assistant.cart_words import CartCommand, command
from chatshop.assistant.intents import from_text
from chatshop.shops.domain import Product
from chatshop.shops.money import Money

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cart", CartCommand("show")),
        ("Mi carrito", CartCommand("show")),
        ("ver o carrinho", CartCommand("show")),
        ("मेरा कार्ट", CartCommand("show")),
        ("Empty the cart", CartCommand("empty")),
        ("vaciar el carrito", CartCommand("empty")),
        ("esvaziar o carrinho", CartCommand("empty")),
        ("कार्ट खाली करो", CartCommand("empty")),
        ("checkout", CartCommand("checkout")),
        ("Place my order!", CartCommand("checkout")),
        ("finalizar compra", CartCommand("checkout")),
        ("ऑर्डर करो", CartCommand("checkout")),
        ("Where is my order?", CartCommand("orders")),
        ("¿Dónde está mi pedido?", CartCommand("orders")),
        ("cadê meu pedido", CartCommand("orders")),
        ("मेरा ऑर्डर कहाँ है", CartCommand("orders")),
        ("cancel my order", CartCommand("cancel")),
        ("cancelar o pedido", CartCommand("cancel")),
        ("ऑर्डर रद्द करो", CartCommand("cancel")),
        ("add 2", CartCommand("add", 2)),
        ("add", CartCommand("add")),
        ("2 of the socks", CartCommand("add", 2, "the socks")),
        ("Add three wool socks to my cart", CartCommand("add", 3, "wool socks")),
        ("añade 3 calcetines al carrito", CartCommand("add", 3, "calcetines")),
        ("dos de las camisetas", CartCommand("add", 2, "las camisetas")),
        ("adiciona duas meias", CartCommand("add", 2, "meias")),
        ("2 मोज़े जोड़ो", CartCommand("add", 2, "मोजे")),
        ("दो मोज़े कार्ट में डालो", CartCommand("add", 2, "मोजे")),
        ("add socks x2", CartCommand("add", 2, "socks")),
        ("remove the socks", CartCommand("remove", None, "the socks")),
        ("remove 1 sock from my cart", CartCommand("remove", 1, "sock")),
        ("quita los calcetines", CartCommand("remove", None, "los calcetines")),
        ("tirar as meias do carrinho", CartCommand("remove", None, "as meias")),
        ("मोज़े हटाओ", CartCommand("remove", None, "मोजे")),
    ],
)
def test_cart_commands_are_read_in_every_language(text: str, expected: CartCommand) -> None:
    assert command(text) == expected


@pytest.mark.parametrize(
    "text",
    ["do you ship orders abroad?", "red dress under 50", "quero um vestido vermelho", "2", "size 2", "hola"],
)
def test_questions_and_other_commands_are_not_cart_commands(text: str) -> None:
    assert command(text) is None


def test_intents_carry_the_quantity_and_the_words() -> None:
    intent = from_text("3 of the blue socks")

    assert (intent.kind, intent.quantity, intent.value, intent.words) == ("add", 3, "the blue socks", True)
    assert from_text("2").kind == "ordinal"


def product(n: int, title: str) -> Product:
    return Product(
        id=f"p{n}",
        shop_id="s1",
        retailer_id=f"SKU-{n}",
        title=title,
        price=Money(amount=1000, currency="USD"),
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_words_name_the_product_that_has_them_all_and_ties_are_all_returned() -> None:
    catalog = [product(1, "Wool Socks"), product(2, "Blue Socks"), product(3, "Trail Cap")]

    assert [p.id for p in carts.match("the blue socks", catalog)] == ["p2"]
    assert {p.id for p in carts.match("socks", catalog)} == {"p1", "p2"}
    assert carts.match("umbrella", catalog) == []


def test_a_cart_adds_up_lines_caps_at_99_and_an_emptied_cart_is_a_new_one() -> None:
    socks = product(1, "Wool Socks")
    first = carts.add(carts.Cart(), socks, 60, NOW)
    second = carts.add(first.cart, socks, 60, NOW)

    assert first.cart.id is not None and second.cart.id == first.cart.id
    assert second.quantity == 99 and second.capped
    fewer = carts.remove(second.cart, "p1", 9, NOW)
    assert fewer.quantity_of("p1") == 90
    assert carts.remove(fewer, "p1", None, NOW) == carts.Cart()


def test_the_reminder_is_armed_after_the_last_message_and_never_twice() -> None:
    cart = carts.add(carts.Cart(), product(1, "Wool Socks"), 1, NOW).cart

    armed = carts.rearmed(cart, NOW, timedelta(hours=4))
    assert armed.remind_at == NOW + timedelta(hours=4)
    done = carts.reminded(armed)
    assert carts.rearmed(done, NOW + timedelta(hours=1), timedelta(hours=4)).remind_at is None
    assert carts.rearmed(carts.Cart(), NOW, timedelta(hours=4)).remind_at is None
