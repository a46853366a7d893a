"""Outbound WhatsApp messages: Meta's limits checked before sending, and Meta's exact bodies."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chatshop.messaging.outbound import (
    CUSTOMER_WINDOW,
    MAX_DELAY_S,
    Button,
    Image,
    ListMessage,
    OutboundValidationError,
    OutsideCustomerWindow,
    ProductListMessage,
    ReplyButtons,
    SendFailure,
    TemplateMessage,
    Text,
    check_sendable,
    classify_graph_error,
    graph_body,
    is_free_form,
    parse_outbound,
    window_open,
)

TO = "4915112345678"
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _buttons(n: int) -> list[dict[str, str]]:
    return [{"id": f"b{i}", "title": f"Option {i}"} for i in range(n)]


def _rows(n: int, prefix: str = "r") -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i}", "title": f"Row {i}"} for i in range(n)]


def _products(n: int, prefix: str = "sku-") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _product_list(sections: list[dict]) -> dict:
    return {
        "type": "product_list",
        "catalog_id": "1234567890",
        "header": "Our picks",
        "body": "Tap to browse",
        "sections": sections,
    }


# --- Meta's bodies, one per kind ----------------------------------------------------------------


def test_text_body():
    message = parse_outbound({"type": "text", "body": "Hello! Your order shipped."})

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "text",
        "text": {"preview_url": False, "body": "Hello! Your order shipped."},
    }


def test_text_with_link_preview():
    message = parse_outbound({"type": "text", "body": "See https://shop.example", "preview_url": True})

    assert graph_body(message, TO)["text"] == {"preview_url": True, "body": "See https://shop.example"}


def test_image_by_media_id_with_caption():
    message = parse_outbound({"type": "image", "media_id": "1037543291543636", "caption": "The blue one"})

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "image",
        "image": {"id": "1037543291543636", "caption": "The blue one"},
    }


def test_image_by_link():
    message = parse_outbound({"type": "image", "link": "https://cdn.example/p/1.jpg"})

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "image",
        "image": {"link": "https://cdn.example/p/1.jpg"},
    }


def test_reply_buttons_body():
    message = parse_outbound(
        {
            "type": "buttons",
            "header": "Your cart",
            "body": "Check out now?",
            "footer": "Prices include VAT",
            "buttons": [{"id": "checkout", "title": "Check out"}, {"id": "keep", "title": "Keep shopping"}],
        }
    )

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Your cart"},
            "body": {"text": "Check out now?"},
            "footer": {"text": "Prices include VAT"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "checkout", "title": "Check out"}},
                    {"type": "reply", "reply": {"id": "keep", "title": "Keep shopping"}},
                ]
            },
        },
    }


def test_reply_buttons_without_header_or_footer_leave_them_out():
    message = parse_outbound({"type": "buttons", "body": "Yes?", "buttons": _buttons(1)})

    interactive = graph_body(message, TO)["interactive"]

    assert set(interactive) == {"type", "body", "action"}


def test_list_body():
    message = parse_outbound(
        {
            "type": "list",
            "header": "Shipping",
            "body": "Which shipping option do you prefer?",
            "footer": "Lucky Shrub",
            "button_label": "Options",
            "sections": [
                {
                    "title": "Express",
                    "rows": [{"id": "priority", "title": "Priority Mail", "description": "Next day"}],
                },
                {"title": "Standard", "rows": [{"id": "ground", "title": "Ground"}]},
            ],
        }
    )

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Shipping"},
            "body": {"text": "Which shipping option do you prefer?"},
            "footer": {"text": "Lucky Shrub"},
            "action": {
                "button": "Options",
                "sections": [
                    {
                        "title": "Express",
                        "rows": [{"id": "priority", "title": "Priority Mail", "description": "Next day"}],
                    },
                    {"title": "Standard", "rows": [{"id": "ground", "title": "Ground"}]},
                ],
            },
        },
    }


def test_a_single_list_section_may_go_without_a_title():
    message = parse_outbound(
        {"type": "list", "body": "Pick one", "button_label": "Sizes", "sections": [{"rows": _rows(2)}]}
    )

    assert graph_body(message, TO)["interactive"]["action"]["sections"] == [{"rows": _rows(2)}]


def test_product_body():
    message = parse_outbound(
        {
            "type": "product",
            "catalog_id": "1234567890",
            "product_retailer_id": "sku-42",
            "body": "Back in stock",
            "footer": "Ships tomorrow",
        }
    )

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "interactive",
        "interactive": {
            "type": "product",
            "body": {"text": "Back in stock"},
            "footer": {"text": "Ships tomorrow"},
            "action": {"catalog_id": "1234567890", "product_retailer_id": "sku-42"},
        },
    }


def test_product_without_body_or_footer():
    message = parse_outbound({"type": "product", "catalog_id": "1", "product_retailer_id": "sku-1"})

    assert graph_body(message, TO)["interactive"] == {
        "type": "product",
        "action": {"catalog_id": "1", "product_retailer_id": "sku-1"},
    }


def test_product_list_body():
    message = parse_outbound(
        {
            **_product_list(
                [
                    {"title": "Shoes", "product_retailer_ids": ["sku-1", "sku-2"]},
                    {"title": "Socks", "product_retailer_ids": ["sku-3"]},
                ]
            ),
            "footer": "Free returns",
        }
    )

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "interactive",
        "interactive": {
            "type": "product_list",
            "header": {"type": "text", "text": "Our picks"},
            "body": {"text": "Tap to browse"},
            "footer": {"text": "Free returns"},
            "action": {
                "catalog_id": "1234567890",
                "sections": [
                    {
                        "title": "Shoes",
                        "product_items": [{"product_retailer_id": "sku-1"}, {"product_retailer_id": "sku-2"}],
                    },
                    {"title": "Socks", "product_items": [{"product_retailer_id": "sku-3"}]},
                ],
            },
        },
    }


def test_template_body_passes_components_through():
    components = [
        {"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#1042"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "1042"}]},
    ]
    message = parse_outbound(
        {"type": "template", "name": "order_shipped", "language": "en_US", "components": components}
    )

    assert graph_body(message, TO) == {
        **ENVELOPE,
        "type": "template",
        "template": {"name": "order_shipped", "language": {"code": "en_US"}, "components": components},
    }


def test_template_without_components_leaves_them_out():
    message = parse_outbound({"type": "template", "name": "hello_world", "language": "en"})

    assert graph_body(message, TO)["template"] == {"name": "hello_world", "language": {"code": "en"}}


def test_editing_a_body_does_not_change_the_message():
    # Given a template whose components are plain dicts
    message = parse_outbound(
        {"type": "template", "name": "promo", "language": "de", "components": [{"type": "body"}]}
    )
    # When the caller edits the body it got
    graph_body(message, TO)["template"]["components"][0]["type"] = "header"
    # Then the message is as it was
    assert graph_body(message, TO)["template"]["components"] == [{"type": "body"}]


def test_reply_adds_context():
    message = parse_outbound({"type": "text", "body": "Yes, in blue too."})

    body = graph_body(message, TO, reply_to="wamid.HBgLNDkxNTEx")

    assert body["context"] == {"message_id": "wamid.HBgLNDkxNTEx"}
    assert body["text"] == {"preview_url": False, "body": "Yes, in blue too."}


def test_no_context_without_reply():
    assert "context" not in graph_body(parse_outbound({"type": "text", "body": "Hi"}), TO)


@pytest.mark.parametrize(
    ("to", "reply_to", "field"), [("", None, "to"), ("  ", None, "to"), (TO, " ", "reply_to")]
)
def test_blank_recipient_or_reply_is_refused(to, reply_to, field):
    with pytest.raises(OutboundValidationError) as refused:
        graph_body(parse_outbound({"type": "text", "body": "Hi"}), to, reply_to=reply_to)
    assert refused.value.field == field


# --- Meta's limits ------------------------------------------------------------------------------


LIMITS = {
    "4 buttons": ({"type": "buttons", "body": "Pick", "buttons": _buttons(4)}, "buttons", "at most 3"),
    "no buttons": ({"type": "buttons", "body": "Pick", "buttons": []}, "buttons", "at least 1"),
    "21-char button title": (
        {"type": "buttons", "body": "Pick", "buttons": [{"id": "a", "title": "x" * 21}]},
        "buttons.0.title",
        "20 characters",
    ),
    "257-char button id": (
        {"type": "buttons", "body": "Pick", "buttons": [{"id": "x" * 257, "title": "A"}]},
        "buttons.0.id",
        "256 characters",
    ),
    "button id with edge spaces": (
        {"type": "buttons", "body": "Pick", "buttons": [{"id": " a", "title": "A"}]},
        "buttons.0.id",
        "whitespace",
    ),
    "duplicate button ids": (
        {
            "type": "buttons",
            "body": "Pick",
            "buttons": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}],
        },
        "buttons.1.id",
        "unique",
    ),
    "duplicate button titles": (
        {
            "type": "buttons",
            "body": "Pick",
            "buttons": [{"id": "a", "title": "A"}, {"id": "b", "title": "A"}],
        },
        "buttons.1.title",
        "unique",
    ),
    "1025-char button body": (
        {"type": "buttons", "body": "x" * 1025, "buttons": _buttons(1)},
        "body",
        "1024 characters",
    ),
    "61-char button header": (
        {"type": "buttons", "body": "Pick", "header": "x" * 61, "buttons": _buttons(1)},
        "header",
        "60 characters",
    ),
    "11 list rows across sections": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"title": "A", "rows": _rows(6, "a")}, {"title": "B", "rows": _rows(5, "b")}],
        },
        "sections",
        "at most 10",
    ),
    "11 list rows in one section": (
        {"type": "list", "body": "Pick", "button_label": "Open", "sections": [{"rows": _rows(11)}]},
        "sections.0.rows",
        "at most 10",
    ),
    "11 list sections": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"title": f"S{i}", "rows": _rows(1, f"s{i}-")} for i in range(11)],
        },
        "sections",
        "at most 10",
    ),
    "25-char row title": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"rows": [{"id": "r", "title": "x" * 25}]}],
        },
        "sections.0.rows.0.title",
        "24 characters",
    ),
    "201-char row id": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"rows": [{"id": "x" * 201, "title": "A"}]}],
        },
        "sections.0.rows.0.id",
        "200 characters",
    ),
    "73-char row description": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"rows": [{"id": "r", "title": "A", "description": "x" * 73}]}],
        },
        "sections.0.rows.0.description",
        "72 characters",
    ),
    "duplicate row ids across sections": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"title": "A", "rows": _rows(2)}, {"title": "B", "rows": _rows(1)}],
        },
        "sections.1.rows.0.id",
        "unique",
    ),
    "missing list section title with 2 sections": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"title": "A", "rows": _rows(1, "a")}, {"rows": _rows(1, "b")}],
        },
        "sections.1.title",
        "more than one section",
    ),
    "21-char list button label": (
        {"type": "list", "body": "Pick", "button_label": "x" * 21, "sections": [{"rows": _rows(1)}]},
        "button_label",
        "20 characters",
    ),
    "25-char list section title": (
        {
            "type": "list",
            "body": "Pick",
            "button_label": "Open",
            "sections": [{"title": "x" * 25, "rows": _rows(1)}],
        },
        "sections.0.title",
        "24 characters",
    ),
    "4097-char list body": (
        {"type": "list", "body": "x" * 4097, "button_label": "Open", "sections": [{"rows": _rows(1)}]},
        "body",
        "4096 characters",
    ),
    "31 products": (
        _product_list(
            [
                {"title": "A", "product_retailer_ids": _products(16, "a")},
                {"title": "B", "product_retailer_ids": _products(15, "b")},
            ]
        ),
        "sections",
        "at most 30",
    ),
    "missing product section title with 2 sections": (
        _product_list([{"product_retailer_ids": ["a"]}, {"title": "B", "product_retailer_ids": ["b"]}]),
        "sections.0.title",
        "more than one section",
    ),
    "empty product section": (
        _product_list([{"title": "A", "product_retailer_ids": []}]),
        "sections.0.product_retailer_ids",
        "at least 1",
    ),
    "product list without header": (
        {k: v for k, v in _product_list([{"product_retailer_ids": ["a"]}]).items() if k != "header"},
        "header",
        "required",
    ),
    "product with a header": (
        {"type": "product", "catalog_id": "1", "product_retailer_id": "a", "header": "No"},
        "header",
        "unknown field",
    ),
    "caption too long": (
        {"type": "image", "media_id": "1", "caption": "x" * 1025},
        "caption",
        "1024 characters",
    ),
    "both media_id and link": (
        {"type": "image", "media_id": "1", "link": "https://cdn.example/1.jpg"},
        "media_id",
        "not both",
    ),
    "neither media_id nor link": ({"type": "image"}, "media_id", "one of media_id"),
    "image link not http": ({"type": "image", "link": "ftp://cdn.example/1.jpg"}, "link", "http"),
    "4097-char text": ({"type": "text", "body": "x" * 4097}, "body", "4096 characters"),
    "empty text": ({"type": "text", "body": ""}, "body", "empty"),
    "blank text": ({"type": "text", "body": "  \n "}, "body", "blank"),
    "missing text body": ({"type": "text"}, "body", "required"),
    "unknown type": ({"type": "video", "media_id": "1"}, "type", "unknown message type 'video'"),
    "missing type": ({"body": "Hi"}, "type", "required"),
    "extra field": ({"type": "text", "body": "Hi", "colour": "red"}, "colour", "unknown field"),
    "template name with capitals": (
        {"type": "template", "name": "Order", "language": "en"},
        "name",
        "lowercase letters",
    ),
    "template language not a code": (
        {"type": "template", "name": "order", "language": "English"},
        "language",
        '"en_US"',
    ),
    "template component without type": (
        {
            "type": "template",
            "name": "order",
            "language": "en",
            "components": [{"type": "body"}, {"parameters": []}],
        },
        "components.1.type",
        "needs a type",
    ),
    "catalog id with a space": (
        {"type": "product", "catalog_id": "12 34", "product_retailer_id": "a"},
        "catalog_id",
        "whitespace",
    ),
    "not an object": ("hello", "(root)", "dictionary"),
}


@pytest.mark.parametrize(("data", "field", "says"), LIMITS.values(), ids=LIMITS.keys())
def test_a_broken_limit_is_refused_naming_the_field(data, field, says):
    with pytest.raises(OutboundValidationError) as refused:
        parse_outbound(data)

    assert refused.value.field == field
    assert says in refused.value.message
    assert str(refused.value).startswith(f"{field}: ")


def test_several_problems_are_counted():
    with pytest.raises(OutboundValidationError) as refused:
        parse_outbound({"type": "buttons", "body": "", "buttons": []})

    assert refused.value.field == "body"
    assert "(and 1 more problem)" in refused.value.message


BOUNDARIES = {
    "3 buttons of 20 chars": {
        "type": "buttons",
        "body": "x" * 1024,
        "header": "h" * 60,
        "footer": "f" * 60,
        "buttons": [{"id": f"{i}" * 256, "title": f"{i}" * 20} for i in range(3)],
    },
    "10 rows over 10 sections": {
        "type": "list",
        "body": "x" * 4096,
        "button_label": "b" * 20,
        "sections": [
            {"title": f"{i}" * 24, "rows": [{"id": f"{i}" * 200, "title": "t" * 24, "description": "d" * 72}]}
            for i in range(10)
        ],
    },
    "30 products over 10 sections": _product_list(
        [{"title": f"S{i}", "product_retailer_ids": _products(3, f"{i}-")} for i in range(10)]
    ),
    "4096-char text": {"type": "text", "body": "x" * 4096},
    "1024-char caption": {"type": "image", "link": "https://cdn.example/1.jpg", "caption": "x" * 1024},
}


@pytest.mark.parametrize("data", BOUNDARIES.values(), ids=BOUNDARIES.keys())
def test_the_limits_themselves_are_allowed(data):
    assert parse_outbound(data).type == data["type"]


def test_building_a_message_directly_raises_the_same_error():
    with pytest.raises(OutboundValidationError) as refused:
        ReplyButtons(body="Pick", buttons=[Button(id=f"b{i}", title="A") for i in range(4)])
    assert refused.value.field == "buttons"

    with pytest.raises(OutboundValidationError) as refused:
        Button(id="a", title="x" * 21)
    assert refused.value.field == "title"

    with pytest.raises(OutboundValidationError) as refused:
        Image(media_id="1", link="https://cdn.example/1.jpg")
    assert refused.value.field == "media_id"


def test_messages_are_frozen():
    message = Text(body="Hi")

    with pytest.raises(ValidationError, match="frozen"):
        message.body = "Bye"  # type: ignore[misc]


def test_the_error_survives_copy_and_pickle():
    error = OutboundValidationError("buttons.0.title", "longer than Meta's limit of 20 characters")

    for clone in (copy.copy(error), pickle.loads(pickle.dumps(error))):
        assert (clone.field, clone.message) == (error.field, error.message)


def test_parse_returns_the_kind_named_by_type():
    assert isinstance(parse_outbound({"type": "text", "body": "Hi"}), Text)
    assert isinstance(
        parse_outbound({"type": "list", "body": "b", "button_label": "l", "sections": [{"rows": _rows(1)}]}),
        ListMessage,
    )
    assert isinstance(parse_outbound(_product_list([{"product_retailer_ids": ["a"]}])), ProductListMessage)


# --- The 24-hour customer window ----------------------------------------------------------------


def test_window_is_open_at_23_59_59():
    assert window_open(NOW - timedelta(hours=23, minutes=59, seconds=59), NOW)


def test_window_is_closed_at_24_00_00():
    assert not window_open(NOW - CUSTOMER_WINDOW, NOW)


def test_window_is_closed_for_a_customer_who_never_wrote():
    assert not window_open(None, NOW)


def test_a_customer_message_stamped_after_now_keeps_the_window_open():
    # Clock skew between Meta's timestamp and ours must not lock a customer out.
    assert window_open(NOW + timedelta(seconds=3), NOW)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        window_open(datetime(2025, 3, 1, 11, 0), NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        window_open(NOW, datetime(2025, 3, 1, 12, 0))


def test_free_form_outside_the_window_needs_a_template():
    message = parse_outbound({"type": "text", "body": "Still interested?"})

    with pytest.raises(OutsideCustomerWindow) as refused:
        check_sendable(message, NOW - timedelta(hours=25), NOW)

    assert isinstance(refused.value, OutboundValidationError)
    assert refused.value.field == "type"
    assert "template" in refused.value.message
    assert "24-hour" in refused.value.message


def test_free_form_to_a_customer_who_never_wrote_needs_a_template():
    message = parse_outbound({"type": "buttons", "body": "Hi", "buttons": _buttons(1)})

    with pytest.raises(OutsideCustomerWindow, match="never written"):
        check_sendable(message, None, NOW)


def test_free_form_inside_the_window_is_sendable():
    check_sendable(Text(body="Hi"), NOW - timedelta(hours=1), NOW)


def test_a_template_is_sendable_outside_the_window():
    template = TemplateMessage(name="order_shipped", language="en_US")

    check_sendable(template, NOW - timedelta(days=30), NOW)
    check_sendable(template, None, NOW)


EVERY_KIND = [
    {"type": "text", "body": "Hi"},
    {"type": "image", "media_id": "1", "caption": "c"},
    {"type": "buttons", "body": "b", "header": "h", "buttons": _buttons(2)},
    {"type": "list", "body": "b", "button_label": "l", "sections": [{"rows": _rows(1)}]},
    {"type": "product", "catalog_id": "1", "product_retailer_id": "a"},
    _product_list(
        [{"title": "A", "product_retailer_ids": ["a"]}, {"title": "B", "product_retailer_ids": ["b"]}]
    ),
    {"type": "template", "name": "hi", "language": "en", "components": [{"type": "body", "parameters": []}]},
]


@pytest.mark.parametrize("data", EVERY_KIND, ids=[kind["type"] for kind in EVERY_KIND])
def test_a_message_survives_the_queue_as_json(data):
    # The conversation function queues messages as JSON and the sender parses them back.
    message = parse_outbound(data)

    assert parse_outbound(json.loads(message.model_dump_json())) == message
    assert parse_outbound(message.model_dump(exclude_none=True)) == message


def test_only_templates_are_not_free_form():
    kinds = [
        {"type": "text", "body": "Hi"},
        {"type": "image", "media_id": "1"},
        {"type": "buttons", "body": "b", "buttons": _buttons(1)},
        {"type": "list", "body": "b", "button_label": "l", "sections": [{"rows": _rows(1)}]},
        {"type": "product", "catalog_id": "1", "product_retailer_id": "a"},
        _product_list([{"product_retailer_ids": ["a"]}]),
    ]

    assert all(is_free_form(parse_outbound(kind)) for kind in kinds)
    assert not is_free_form(parse_outbound({"type": "template", "name": "hi", "language": "en"}))


# --- Graph API errors ---------------------------------------------------------------------------


RETRIES = {
    # (http status, code, attempt): delay in seconds
    "HTTP 429, no code": (429, None, 1, 2),
    "throughput 130429": (400, 130429, 1, 2),
    "throughput 130429, 3rd attempt": (400, 130429, 3, 8),
    "app calls 4": (400, 4, 1, 60),
    "WABA rate 80007": (400, 80007, 2, 120),
    "Graph rate 613": (400, 613, 1, 60),
    "pair rate 131056": (400, 131056, 1, 6),
    "pair rate 131056, 2nd attempt": (400, 131056, 2, 12),
    "HTTP 500, no code": (500, None, 1, 2),
    "HTTP 503, no code": (503, None, 4, 16),
    "api unknown 1": (500, 1, 1, 2),
    "api service 2": (503, 2, 1, 2),
    "something went wrong 131000": (500, 131000, 1, 2),
    "service unavailable 131016": (503, 131016, 1, 2),
    "maintenance 131057": (400, 131057, 1, 2),
    "HTTP 502 with an unknown code": (502, 999999, 1, 2),
}


@pytest.mark.parametrize(("status", "code", "attempt", "delay"), RETRIES.values(), ids=RETRIES.keys())
def test_transient_errors_are_retried_with_backoff(status, code, attempt, delay):
    assert classify_graph_error(status, code, attempt) == SendFailure(
        retry=True, delay_s=delay, permanent_reason=None
    )


PERMANENT = {
    "re-engagement 131047": (400, 131047, "24 hours"),
    "undeliverable 131026": (400, 131026, "undeliverable"),
    "unsupported type 131051": (400, 131051, "Unsupported message type"),
    "invalid parameter 100": (400, 100, "Invalid parameter"),
    "token 190": (401, 190, "token"),
    "not allowed test recipient 131030": (400, 131030, "allowed list"),
    "template params 132000": (400, 132000, "parameter count"),
    "template missing 132001": (404, 132001, "Template does not exist"),
    "missing parameter 131008": (400, 131008, "Required parameter"),
    "invalid parameter value 131009": (400, 131009, "not valid"),
    "spam 131048": (400, 131048, "spam"),
    "permission range 200-299": (403, 250, "Permission"),
    # Code 3 comes with HTTP 500, yet a permissions issue does not heal by retrying.
    "permissions 3 over HTTP 500": (500, 3, "permission"),
    "HTTP 400 without a code": (400, None, "not known to be transient"),
    "HTTP 404 with an unknown code": (404, 424242, "424242"),
}


@pytest.mark.parametrize(("status", "code", "says"), PERMANENT.values(), ids=PERMANENT.keys())
def test_permanent_errors_are_not_retried(status, code, says):
    failure = classify_graph_error(status, code, attempt=1)

    assert (failure.retry, failure.delay_s) == (False, 0)
    assert failure.permanent_reason is not None
    assert says in failure.permanent_reason
    if code is not None:
        assert failure.permanent_reason.startswith(f"{code}: ")


def test_backoff_doubles_and_stops_at_the_sqs_maximum_delay():
    delays = [classify_graph_error(429, 130429, attempt).delay_s for attempt in range(1, 13)]

    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert classify_graph_error(400, 131056, 100).delay_s == MAX_DELAY_S
    assert classify_graph_error(400, 80007, 10_000).delay_s == MAX_DELAY_S


def test_attempts_count_from_one():
    with pytest.raises(ValueError, match="from 1"):
        classify_graph_error(429, None, 0)
