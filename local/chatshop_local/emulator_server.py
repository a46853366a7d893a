"""Serves moto's AWS emulator with keep-alive connections (waitress), and answers DynamoDB's item
calls without moto's shape-walking serializer.

moto's own server (werkzeug's development server) closes the connection after every response,
so each AWS call of the local stack paid for a new TCP connection; waitress keeps it open.
moto 5.2 also serialises every response by walking the botocore shape of each attribute value,
which costs about 0.7 ms per item: a 100-product page took ~75 ms in the emulator alone. DynamoDB
results are already in DynamoDB's JSON form, so for the item operations the result is written as
JSON directly; anything that is not plain JSON (a binary value, a timestamp) falls back to moto's
serializer, and a test checks the two agree. The same goes for DynamoDB Streams' GetRecords, whose
records are item images too: moto took ~3 ms a record to serialise them, seconds for a full read
of 1,000, during which every other call of the stack waited on the emulator's GIL. SQS's
SendMessageBatch and DeleteMessageBatch answers are plain JSON too (ids, digests, error codes):
moto's serializer was ~40% of the emulator's time per batch sent, and an import sends one batch
per ten products.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import functools
import json
import logging
import re
import string
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from moto import backends
from moto.core import responses as moto_responses
from moto.core import utils as moto_utils
from moto.core.responses import ActionResult, BaseResponse
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_api._internal import mock_random
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.sqs.responses import SQSResponse
from waitress import serve
from waitress.channel import HTTPChannel

from .emulator_dynamodb import install_atomic_item_writes
from .emulator_sqs import (
    install_atomic_receive,
    install_cheap_queue_attributes,
    install_cheap_scans,
)

ITEM_ACTIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem"}
)
_JSON_1_0 = "application/x-amz-json-1.0"
_moto_serialized = DynamoHandler.serialized
_moto_streams_serialized = DynamoDBStreamsHandler.serialized
_moto_sqs_serialized = SQSResponse.serialized
SQS_PLAIN_ACTIONS = frozenset({"SendMessageBatch", "DeleteMessageBatch"})


def _direct_json(self: DynamoHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    # Only plain results: a paginated or otherwise special one keeps moto's own serializer.
    plain = type(action_result) in (ActionResult, DynamoResult)
    if plain and isinstance(result, dict) and self._get_action() in ITEM_ACTIONS:
        try:
            body = json.dumps(result, separators=(",", ":"))
        except (TypeError, ValueError):
            return _moto_serialized(self, action_result)
        return 200, {"Content-Type": _JSON_1_0, **self.response_headers}, body
    return _moto_serialized(self, action_result)


def _epoch_seconds(value: Any) -> int | float:
    # The JSON protocols write a timestamp as epoch seconds, truncated to the millisecond (as moto's
    # serializer does); a record's creation time is the only timestamp of GetRecords.
    if isinstance(value, datetime):
        seconds = calendar.timegm(value.utctimetuple())
        return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds
    raise TypeError(f"{type(value).__name__} is not JSON")


def _direct_stream_records(self: DynamoDBStreamsHandler, action_result: ActionResult) -> Any:
    result = action_result.result
    if (
        type(action_result) is ActionResult
        and isinstance(result, dict)
        and self._get_action() == "GetRecords"
    ):
        try:
            body = json.dumps(result, separators=(",", ":"), default=_epoch_seconds)
        except (TypeError, ValueError):
            return _moto_streams_serialized(self, action_result)
        return 200, {"Content-Type": _JSON_1_0, **self.response_headers}, body
    return _moto_streams_serialized(self, action_result)


def _only_strings_and_flags(value: Any) -> bool:
    # What moto's serializer writes as it is: no None (which it leaves out), no numbers or bytes.
    if type(value) is dict:
        return all(type(k) is str and _only_strings_and_flags(v) for k, v in value.items())
    if type(value) is list:
        return all(_only_strings_and_flags(v) for v in value)
    return type(value) in (str, bool)


def _direct_sqs_json(self: SQSResponse, action_result: ActionResult) -> Any:
    result = action_result.result
    if (
        type(action_result) is ActionResult
        and self._get_action() in SQS_PLAIN_ACTIONS
        and self.headers.get("Content-Type", "").split(";")[0].strip() == _JSON_1_0
        and _only_strings_and_flags(result)
    ):
        body = json.dumps(result, separators=(",", ":"))
        return 200, {"Content-Type": _JSON_1_0, **self.response_headers}, body
    return _moto_sqs_serialized(self, action_result)


_moto_parse_parameters = DynamoHandler.parse_parameters
_BATCH_WRITE_OPTIONS = frozenset({"ReturnConsumedCapacity", "ReturnItemCollectionMetrics"})
_WRITE_REQUESTS = {"PutRequest": "Item", "DeleteRequest": "Key"}
_STRINGS = frozenset({"S", "N"})
_STRING_SETS = frozenset({"SS", "NS"})
_BOOLEANS = frozenset({"BOOL", "NULL"})


def _plain_value(value: Any) -> bool:
    # An AttributeValue moto's parser hands on exactly as JSON decoded it: one known member, not
    # null, no binary (which it decodes from base64).
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, member),) = value.items()
    if kind in _STRINGS:
        return type(member) is str
    if kind in _STRING_SETS:
        return type(member) is list and all(type(element) is str for element in member)
    if kind in _BOOLEANS:
        return type(member) is bool
    if kind == "M":
        return _plain_item(member)
    if kind == "L":
        return type(member) is list and all(_plain_value(element) for element in member)
    return False


def _plain_item(item: Any) -> bool:
    return type(item) is dict and all(type(name) is str and _plain_value(v) for name, v in item.items())


def plain_batch_write(body: bytes) -> dict[str, Any] | None:
    """A BatchWriteItem request as moto's parser would hand it on, when that is the JSON as decoded:
    only members of the operation's shapes, no nulls, no binary values. None: anything else."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if type(request) is not dict or type(request.get("RequestItems")) is not dict:
        return None
    if any(
        name != "RequestItems" and (name not in _BATCH_WRITE_OPTIONS or type(value) is not str)
        for name, value in request.items()
    ):
        return None
    for table, writes in request["RequestItems"].items():
        if type(table) is not str or type(writes) is not list:
            return None
        for write in writes:
            if type(write) is not dict or len(write) != 1:
                return None
            ((kind, detail),) = write.items()
            member = _WRITE_REQUESTS.get(kind)
            if member is None or type(detail) is not dict or list(detail) != [member]:
                return None
            if not _plain_item(detail[member]):
                return None
    return request


_BATCH_GET_OPTIONS = frozenset({"ReturnConsumedCapacity"})


def _plain_names(names: Any) -> bool:
    return type(names) is dict and all(type(k) is str and type(v) is str for k, v in names.items())


def plain_batch_get(body: bytes) -> dict[str, Any] | None:
    """A BatchGetItem request as moto's parser would hand it on, when that is the JSON as decoded:
    keys of plain attribute values, a boolean ConsistentRead, a projection by expression and its
    names. None: anything else (AttributesToGet, binary keys, nulls, unknown members)."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if type(request) is not dict or type(request.get("RequestItems")) is not dict:
        return None
    if any(
        name != "RequestItems" and (name not in _BATCH_GET_OPTIONS or type(value) is not str)
        for name, value in request.items()
    ):
        return None
    for table, wanted in request["RequestItems"].items():
        if type(table) is not str or type(wanted) is not dict or type(wanted.get("Keys")) is not list:
            return None
        if not all(_plain_item(key) for key in wanted["Keys"]):
            return None
        for name, value in wanted.items():
            if name == "Keys":
                continue
            if name == "ConsistentRead" and type(value) is bool:
                continue
            if name == "ProjectionExpression" and type(value) is str:
                continue
            if name == "ExpressionAttributeNames" and _plain_names(value):
                continue
            return None
    return request


_PLAIN_PARSERS = {"BatchWriteItem": plain_batch_write, "BatchGetItem": plain_batch_get}


def _direct_parse(self: DynamoHandler, request: Any) -> None:
    plain = _PLAIN_PARSERS.get(self._get_action())
    if plain is not None:
        parsed = plain(request.data)
        if parsed is not None:
            self.params = parsed
            return
    _moto_parse_parameters(self, request)


def install_direct_batch_write_parse() -> None:
    """moto parses every request by walking the operation's botocore shapes, member by member: for
    BatchWriteItem, 25 items of a dozen attributes each, about an eighth of the emulator's time per
    written item; for BatchGetItem, a hundred keys per read of an import's batch. A request whose
    parse would be the decoded JSON itself is taken as decoded."""
    DynamoHandler.parse_parameters = _direct_parse  # type: ignore[method-assign]


def install_fixed_module_list() -> None:
    """moto lists its own package folder on every request to tell a service name from a host name;
    the folder does not change while it runs, so it is listed once."""
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


_moto_method_names = moto_responses.method_names_from_class


@functools.cache
def _method_names(clazz: type) -> frozenset[str]:
    return frozenset(_moto_method_names(clazz))


_REQUEST_ID_CHARS = string.ascii_letters + string.digits
_XML_REQUEST_ID = re.compile(r"(?<=<RequestId>).*(?=<\/RequestId>)")


def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    # moto's BaseResponse._enrich_response: the status as text, a 52-character request id (from
    # moto's own seeded random, so a seeded emulator stays repeatable), and that id in an XML body's
    # RequestId. moto ran the XML substitution over every body, a megabyte of GetRecords JSON too.
    if "status" in headers:
        headers["status"] = str(headers["status"])
    request_id = "".join(mock_random.choices(_REQUEST_ID_CHARS, k=52))
    headers["x-amzn-requestid"] = request_id
    if isinstance(body, str) and "<RequestId>" in body:
        body = _XML_REQUEST_ID.sub(request_id, body)
    return headers, body


def install_cheap_dispatch() -> None:
    """moto lists a response class's methods (``inspect.getmembers``, ~1 ms) on every request to find
    the action's, and builds every request id one random character at a time; the classes do not
    change while it runs, so their method names are listed once."""
    moto_responses.method_names_from_class = _method_names  # type: ignore[assignment]
    BaseResponse._enrich_response = staticmethod(_enrich_response)  # type: ignore[method-assign]


_EPOCH = datetime(1970, 1, 1)
_moto_unix_time = moto_utils.unix_time
_moto_utcnow = moto_utils.utcnow


def utcnow() -> datetime:
    """moto's ``utcnow``: now in UTC, naive (without importing ``datetime.UTC`` on every call)."""
    return datetime.now(UTC).replace(tzinfo=None)


def unix_time(dt: datetime | None = None) -> float:
    """moto's ``unix_time`` (the same arithmetic), against an epoch made once rather than per call."""
    dt = dt or utcnow()
    delta = dt - _EPOCH
    return (delta.days * 86400) + (delta.seconds + (delta.microseconds / 1e6))


def install_cheap_clock() -> None:
    """moto reads the clock through helpers that import ``datetime.UTC`` and rebuild the epoch on
    every call: twice per message on every SQS receive, and for every stream record's timestamp.
    Every loaded moto module that imported them by name is given these."""
    replacements = ((_moto_unix_time, unix_time), (_moto_utcnow, utcnow))
    for name, module in list(sys.modules.items()):
        if name == "moto" or name.startswith("moto."):
            for attribute, value in list(vars(module).items()):
                for moto_own, cheap in replacements:
                    if value is moto_own:
                        setattr(module, attribute, cheap)


def install_empty_body_expect_fix() -> None:
    """boto3 sends ``Expect: 100-continue`` on every S3 upload, an empty one included. waitress 3.0
    answers it with "100 Continue" and then marks the (already complete, bodiless) request as
    incomplete again, so the request is never served and the client times out. A request without a
    body has nothing to continue: it is served straight away."""
    send_continue = HTTPChannel.send_continue

    def continue_unless_empty(channel: HTTPChannel) -> None:
        if (
            channel.request is not None
            and channel.request.content_length == 0
            and not channel.request.chunked
        ):
            channel.request.expect_continue = False
            return
        send_continue(channel)

    HTTPChannel.send_continue = continue_unless_empty  # type: ignore[method-assign]


# moto's limit on an item's size: DynamoDB's 400 KB, as moto measured it.
_ITEM_SIZE_LIMIT = 405_000


def _item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key = hash_key
    self.range_key = range_key
    built = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(built)
    for key, value in attrs.items():
        dict.__setitem__(built, key, DynamoType(value))
    if sum(bytesize(key) + value.size() for key, value in built.items()) > _ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = built


def install_linear_item_size_check() -> None:
    """moto keeps an item's attributes in a dict that, to refuse items over 400 KB, sums the size of
    every attribute already there on each insert: building an item of n attributes measures n²/2 of
    them, half the emulator's time per written item. While an item is built from distinct names its
    size only grows, so one check of the whole item refuses exactly the items moto refuses."""
    Item.__init__ = _item_init  # type: ignore[method-assign]


def install_direct_json() -> None:
    DynamoHandler.serialized = _direct_json  # type: ignore[method-assign]
    DynamoDBStreamsHandler.serialized = _direct_stream_records  # type: ignore[method-assign]
    SQSResponse.serialized = _direct_sqs_json  # type: ignore[method-assign]


@contextlib.contextmanager
def moto_serializer() -> Iterator[None]:
    """moto's own serializer for the duration of the block (for comparing the two)."""
    motos_own = {
        DynamoHandler: _moto_serialized,
        DynamoDBStreamsHandler: _moto_streams_serialized,
        SQSResponse: _moto_sqs_serialized,
    }
    current = {handler: handler.serialized for handler in motos_own}
    for handler, serialized in motos_own.items():
        handler.serialized = serialized  # type: ignore[method-assign]
    try:
        yield
    finally:
        for handler, serialized in current.items():
            handler.serialized = serialized  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    # Every SQS poller of the local runtime holds a thread in its long poll (up to a second): the
    # pool must outnumber them, or item calls queue behind the polls.
    parser.add_argument("--threads", type=int, default=128)
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is expected under load
    install_direct_json()
    install_linear_item_size_check()
    install_direct_batch_write_parse()
    install_fixed_module_list()
    install_cheap_dispatch()
    install_cheap_clock()
    install_cheap_queue_attributes()
    install_cheap_scans()
    install_atomic_receive()
    install_atomic_item_writes()
    install_empty_body_expect_fix()
    application = DomainDispatcherApplication(create_backend_app)
    serve(
        application, host=args.host, port=args.port, threads=args.threads, ident="chatshop-aws", _quiet=True
    )


if __name__ == "__main__":
    main()
