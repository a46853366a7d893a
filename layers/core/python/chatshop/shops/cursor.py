"""Opaque page cursors: DynamoDB's LastEvaluatedKey, encoded, and checked when it comes back.

A cursor is only ever accepted for the partition it was issued for, so a crafted one cannot page
into another shop's or another merchant's items.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from chatshop.platform.errors import ValidationFailed

_MAX_CURSOR_CHARS = 2048


def encode_cursor(last_evaluated_key: Mapping[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_after(keys: Mapping[str, str]) -> str:
    """The cursor that continues a list after the item with these (string) key attributes."""
    return encode_cursor({name: {"S": value} for name, value in keys.items()}) or ""


def decode_cursor(cursor: str | None, partition: tuple[str, str], key_names: frozenset[str]) -> dict | None:
    """The LastEvaluatedKey behind ``cursor``, if it belongs to ``partition`` (name, value)."""
    if cursor is None or cursor == "":
        return None
    try:
        if len(cursor) > _MAX_CURSOR_CHARS:
            raise ValueError("too long")
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        _check_shape(decoded, key_names)
    except (ValueError, binascii.Error, TypeError):
        raise ValidationFailed(["cursor"], "The cursor is not valid.") from None
    name, value = partition
    if decoded[name] != {"S": value}:
        raise ValidationFailed(["cursor"], "The cursor is not valid for this list.")
    return decoded


def _check_shape(decoded: Any, key_names: frozenset[str]) -> None:
    if not isinstance(decoded, dict) or set(decoded) != key_names:
        raise ValueError("unexpected keys")
    for value in decoded.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)):
            raise ValueError("unexpected value")
