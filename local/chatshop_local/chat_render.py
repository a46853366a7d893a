"""How `chatshop chat` shows what a shop sent: plain lines from a Graph API send body, and its choices.

Pure: the body is what our sender posted to ``POST /{version}/{phone_number_id}/messages`` (the
Graph emulator's outbox keeps it as sent); nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

INDENT = "    "


@dataclass(frozen=True)
class Choice:
    """Something the customer can tap: a reply button, or a row of a list message."""

    kind: Literal["button", "list"]
    id: str
    title: str
    description: str | None = None


# retailer ids -> how the shop's catalog names them ("Merino socks, blue, M: $16.00"); what Meta's
# app shows of a catalog item, which the message itself only refers to.
Describe = Callable[[list[str]], Mapping[str, str]]


def render(body: Any, describe: Describe | None = None) -> list[str]:
    """The lines a person reads for one sent message; never empty."""
    if not isinstance(body, dict):
        return ["[a message without a body]"]
    kind = body.get("type") or "text"
    content = _dict(body.get(kind))
    match kind:
        case "text":
            return _text_lines(content.get("body"))
        case "image" | "video" | "document" | "audio" | "sticker":
            return _media(kind, content)
        case "interactive":
            return _interactive(content, describe or (lambda ids: {}))
        case "template":
            return _template(content)
        case "location":
            return [f"[location] {content.get('name') or ''} {content.get('address') or ''}".rstrip()]
        case "reaction":
            return [f"[reacted {content.get('emoji') or '(removed)'}]"]
    return [f"[{kind} message]"]


def choices(body: Any) -> list[Choice]:
    """What can be tapped in a sent message: its reply buttons, or its list rows, in order."""
    if not isinstance(body, dict) or body.get("type") != "interactive":
        return []
    interactive = _dict(body.get("interactive"))
    action = _dict(interactive.get("action"))
    if interactive.get("type") == "button":
        return [
            Choice("button", str(reply["id"]), str(reply.get("title", "")))
            for reply in (_dict(button.get("reply")) for button in _dicts(action.get("buttons")))
            if "id" in reply
        ]
    if interactive.get("type") == "list":
        return [
            Choice("list", str(row["id"]), str(row.get("title", "")), row.get("description"))
            for section in _dicts(action.get("sections"))
            for row in _dicts(section.get("rows"))
            if "id" in row
        ]
    return []


# --- kinds ------------------------------------------------------------------------------------------


def _media(kind: str, content: dict[str, Any]) -> list[str]:
    name = content.get("filename") or _link_name(content.get("link"))
    label = f"[{kind}{': ' + name if name else ''}]"
    caption = content.get("caption")
    return [f"{caption} {label}"] if caption else [label]


def _link_name(link: Any) -> str | None:
    """The file name a link ends in (a presigned URL's query left out)."""
    if not isinstance(link, str) or not link:
        return None
    return urlsplit(link).path.rsplit("/", 1)[-1] or None


def _item(describe: Describe, retailer_id: str) -> str:
    label = describe([retailer_id]).get(retailer_id)
    return f"{label} ({retailer_id})" if label else retailer_id


def _interactive(content: dict[str, Any], describe: Describe) -> list[str]:
    kind = content.get("type")
    action = _dict(content.get("action"))
    lines = _frame_top(content)
    match kind:
        case "button":
            for number, choice in enumerate(choices({"type": "interactive", "interactive": content}), 1):
                lines.append(f"{INDENT}[{number}] {choice.title} ({choice.id})")
        case "list":
            lines.append(f"{INDENT}[{action.get('button') or 'Menu'}]")
            number = 0
            for section in _dicts(action.get("sections")):
                if section.get("title"):
                    lines.append(f"{INDENT}{section['title']}:")
                for row in _dicts(section.get("rows")):
                    # Numbered as choices() counts them, so `/tap 2` taps the row shown as [2].
                    number += "id" in row
                    mark = f"[{number}]" if "id" in row else "-"
                    row_line = f"{INDENT}  {mark} {row.get('title', '')} ({row.get('id', '?')})"
                    if row.get("description"):
                        row_line += f": {row['description']}"
                    lines.append(row_line)
        case "product":
            lines.append(
                f"{INDENT}[product {_item(describe, str(action.get('product_retailer_id', '?')))}"
                f" from catalog {action.get('catalog_id', '?')}]"
            )
        case "product_list":
            lines.append(f"{INDENT}[products from catalog {action.get('catalog_id', '?')}]")
            for section in _dicts(action.get("sections")):
                if section.get("title"):
                    lines.append(f"{INDENT}{section['title']}:")
                for item in _dicts(section.get("product_items")):
                    lines.append(f"{INDENT}  - {_item(describe, str(item.get('product_retailer_id', '?')))}")
        case "cta_url":
            parameters = _dict(action.get("parameters"))
            lines.append(f"{INDENT}[{parameters.get('display_text', 'Open')}] {parameters.get('url', '')}")
        case "order_details":
            parameters = _dict(action.get("parameters"))
            total = _dict(parameters.get("total_amount"))
            amount = f"{int(total.get('value', 0)) / int(total.get('offset') or 100):.2f}"
            lines.append(
                f"{INDENT}[Review and pay {parameters.get('currency', '')} {amount}] "
                f"(bill {parameters.get('reference_id', '?')}; /pay pays it)"
            )
        case _:
            lines.append(f"{INDENT}[interactive {kind or 'message'}]")
    footer = _dict(content.get("footer")).get("text")
    if footer:
        lines.append(f"{INDENT}{footer}")
    return lines


def _frame_top(content: dict[str, Any]) -> list[str]:
    lines = []
    header = _dict(content.get("header"))
    if header.get("type", "text") == "text" and header.get("text"):
        lines.append(f"*{header['text']}*")
    elif header.get("type"):
        name = _link_name(_dict(header.get(header["type"])).get("link"))
        lines.append(f"[{header['type']}{': ' + name if name else ''}]")
    lines += _text_lines(_dict(content.get("body")).get("text"), empty=[])
    return lines or [""]


def _template(content: dict[str, Any]) -> list[str]:
    language = _dict(content.get("language")).get("code")
    line = f"[template {content.get('name', '?')}{f' ({language})' if language else ''}]"
    parameters = [
        str(parameter.get("text"))
        for component in _dicts(content.get("components"))
        for parameter in _dicts(component.get("parameters"))
        if parameter.get("type") == "text" and parameter.get("text") is not None
    ]
    if parameters:
        line += " " + ", ".join(parameters)
    return [line]


# --- helpers ----------------------------------------------------------------------------------------


def _text_lines(text: Any, empty: list[str] | None = None) -> list[str]:
    if text is None or text == "":
        return [""] if empty is None else empty
    return str(text).splitlines() or [""]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
