"""A person's traces in a stack: every item of every table and every object of every bucket its
template declares, searched for their number, name, keys and message ids.

Meta's message ids (``wamid.<base64>``) carry the customer's number inside, so each one found is
decoded and searched too; binary attributes that are zlib streams are opened first.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import zlib
from collections.abc import Iterable, Iterator

from chatshop_local.stack import LocalStack

_WAMID = re.compile(r"wamid\.([A-Za-z0-9+/=]+)")


def everything_in(stack: LocalStack) -> Iterator[tuple[str, str]]:
    """(where, text) for every item of every table and every object of every bucket of the stack."""
    dynamodb, s3 = stack.clients.client("dynamodb"), stack.clients.client("s3")
    for table in stack.stack.of_type("AWS::DynamoDB::Table"):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table.physical_id):
            for item in page["Items"]:
                yield (
                    f"{table.logical_id} {item.get('pk', {}).get('S')}",
                    json.dumps(item, ensure_ascii=False, default=_readable),
                )
    for bucket in stack.stack.of_type("AWS::S3::Bucket"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.physical_id):
            for entry in page.get("Contents", []):
                content = s3.get_object(Bucket=bucket.physical_id, Key=entry["Key"])["Body"].read()
                yield (
                    f"{bucket.logical_id} {entry['Key']}",
                    entry["Key"] + "\n" + content.decode("utf-8", "replace"),
                )


def traces(stack: LocalStack, needles: Iterable[str], wa_id: str | None = None) -> list[str]:
    """Where any of ``needles`` is found in the stack, and, given the customer's WhatsApp id, where
    a Meta message id that encodes it is."""
    needles = [needle for needle in needles if needle]
    found = []
    for where, text in everything_in(stack):
        if any(needle in text for needle in needles):
            found.append(where)
        elif wa_id is not None and _holds_a_wamid_of(text, wa_id):
            found.append(f"{where} (a wamid)")
    return found


def _holds_a_wamid_of(text: str, wa_id: str) -> bool:
    for encoded in _WAMID.findall(text):
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            continue
        if wa_id.encode() in decoded:
            return True
    return False


def _readable(value: object) -> str:
    """A binary attribute as text: a compressed one (a zlib stream) opened first, so what it holds
    is searched too."""
    assert isinstance(value, bytes), type(value)
    with contextlib.suppress(zlib.error):
        value = zlib.decompress(value)
    return value.decode("utf-8", "replace")
