"""`chatshop chat` taps a button or list row by the number it shows before it, or by its id; the tap
reaches the webhook as WhatsApp's button or list reply to the message that offered it."""

from __future__ import annotations

import io

import pytest

from chatshop.messaging.outbound import Button, ListMessage, ListRow, ListSection, ReplyButtons, graph_body
from chatshop_local.chat_render import render
from tests.unit.local import test_graph_emulator as base
from tests.unit.local.test_chat_bills import chat_session
from tests.unit.local.test_graph_emulator import CUSTOMER, Client, WebhookReceiver

clock, receiver, emulator, client = base.clock, base.receiver, base.emulator, base.client

MENU = ReplyButtons(
    body="What would you like to do?",
    buttons=(Button(id="menu:browse", title="Browse"), Button(id="menu:cart", title="My cart")),
)
SIZES = ListMessage(
    body="Which size?",
    button_label="Sizes",
    sections=(
        ListSection(title="Tops", rows=(ListRow(id="size:s", title="S"), ListRow(id="size:m", title="M"))),
        ListSection(title="Long", rows=(ListRow(id="size:l", title="L", description="a longer cut"),)),
    ),
)


@pytest.fixture
def session(emulator):
    out = io.StringIO()
    chat = chat_session(emulator, out)
    chat.out = out  # type: ignore[attr-defined]
    return chat


def next_customer_message(receiver: WebhookReceiver) -> dict:
    """The next customer message the webhook received, past the status webhooks of the shop's sends."""
    while True:
        value = receiver.next().json()["entry"][0]["changes"][0]["value"]
        if value.get("messages"):
            return value["messages"][0]


def sent_id(client: Client, message: dict) -> str:
    status, body = client.send(message)
    assert status == 200, body
    return body["messages"][0]["id"]


def test_list_rows_are_numbered_across_sections_as_buttons_are():
    lines = render(graph_body(SIZES, CUSTOMER))

    assert "      [1] S (size:s)" in lines
    assert "      [2] M (size:m)" in lines
    assert "      [3] L (size:l): a longer cut" in lines


def test_a_number_taps_that_row_of_the_last_message_with_choices(
    session, client: Client, receiver: WebhookReceiver
):
    # Given the shop sent a menu and then a list
    sent_id(client, graph_body(MENU, CUSTOMER))
    listed = sent_id(client, graph_body(SIZES, CUSTOMER))
    session.poll_once()

    # When the customer types /tap 3
    session.handle("/tap 3")

    # Then the third row of the list (not of the menu) is tapped, in reply to the list
    tap = next_customer_message(receiver)
    assert tap["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "size:l", "title": "L", "description": "a longer cut"},
    }
    assert tap["context"]["id"] == listed
    assert "tapped 'L' (size:l)" in session.out.getvalue()


def test_an_id_still_taps_a_button_of_an_earlier_message(session, client: Client, receiver: WebhookReceiver):
    menu = sent_id(client, graph_body(MENU, CUSTOMER))
    sent_id(client, graph_body(SIZES, CUSTOMER))
    session.poll_once()

    session.handle("/tap menu:cart")

    tap = next_customer_message(receiver)
    assert tap["interactive"]["button_reply"] == {"id": "menu:cart", "title": "My cart"}
    assert tap["context"]["id"] == menu


def test_a_number_with_no_such_choice_sends_nothing(session, client: Client, receiver: WebhookReceiver):
    sent_id(client, graph_body(MENU, CUSTOMER))
    session.poll_once()

    session.handle("/tap 3")
    session.handle("hello")

    assert "has no [3]" in session.out.getvalue()
    # The next thing the customer sent is the text: no tap went before it
    assert next_customer_message(receiver)["text"]["body"] == "hello"
