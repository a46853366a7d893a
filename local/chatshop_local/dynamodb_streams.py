"""DynamoDB stream event source mappings: read a table's stream and deliver it in order.

Like Lambda's stream poller, for each shard: records go to the function in order, as the
``{"Records": [...]}`` event Lambda builds from GetRecords; records the mapping's FilterCriteria
reject are passed over. A batch that fails is retried from its first record or, with
ReportBatchItemFailures, from the earliest record the function reports, so what came before is not
sent again. With BisectBatchOnFunctionError a failing batch is halved before its retry. After
MaximumRetryAttempts the records are given up: a description of them goes to the on-failure queue,
as Lambda sends it, and the shard moves on.

GetRecords answers are read as the JSON they are: botocore's parse walks every attribute of every
item image through the AttributeValue shape (and builds a local time zone per record for its
timestamp), about 13% of the stack's CPU while an import streamed its products. Lambda's event
wants that JSON anyway: binary values stay base64 text and the timestamp stays epoch seconds.
"""

from __future__ import annotations

import base64
import contextvars
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.utils import parse_timestamp

from .event_filters import Pattern, passes
from .functions import InvocationResult
from .loops import BackgroundLoop

log = logging.getLogger("chatshop.local.streams")

_GET_RECORDS_LIMIT = 1000  # DynamoDB Streams' own maximum
_IDLE_WAIT_S = 0.25  # Lambda polls a shard about four times a second


@dataclass(frozen=True)
class StreamMapping:
    function: str
    function_arn: str
    stream_arn: str
    starting_position: str  # TRIM_HORIZON or LATEST
    batch_size: int
    batching_window_s: int
    report_batch_item_failures: bool
    filter_patterns: tuple[Pattern, ...] = ()
    maximum_retry_attempts: int = -1  # -1: retry until the record leaves the stream
    bisect_on_error: bool = False
    on_failure_queue_url: str | None = None


@dataclass(frozen=True)
class StreamBatchOutcome:
    delivered: int
    done: int  # records checkpointed: processed, or given up
    retrying: int
    given_up: int = 0


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    limit: int  # the batch size now: smaller while bisecting a failing batch
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, filtered, not yet processed
    pending_since: float = 0.0
    attempts: int = 0
    retry_at: float = 0.0


def lambda_stream_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda builds from a DynamoDB Streams GetRecords result."""
    stream = dict(record["dynamodb"])
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # Lambda gives epoch seconds; the streams API answers a timestamp.
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": _binary_as_base64(stream),
        "eventSourceARN": stream_arn,
    }


# The members of a GetRecords StreamRecord (botocore's parse leaves out anything else).
_STREAM_RECORD_MEMBERS = (
    "ApproximateCreationDateTime",
    "Keys",
    "NewImage",
    "OldImage",
    "SequenceNumber",
    "SizeBytes",
    "StreamViewType",
)


def lambda_stream_record_from_json(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """:func:`lambda_stream_record` of a record as GetRecords' JSON holds it, before botocore's parse."""
    raw = record["dynamodb"]
    stream = {name: raw[name] for name in _STREAM_RECORD_MEMBERS if name in raw}
    created = stream.get("ApproximateCreationDateTime")
    if created is not None:
        # The value botocore's parse would give once made epoch seconds again, rounding included.
        if isinstance(created, int | float) and not isinstance(created, bool):
            moment = datetime.fromtimestamp(created, UTC)
        else:
            moment = parse_timestamp(created)
        stream["ApproximateCreationDateTime"] = int(moment.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }


_RAW_ANSWER = "chatshop:GetRecordsJson"  # where the parsed answer keeps the JSON as decoded
_raw_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("raw_get_records", default=False)


def _keep_json(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    # botocore's before-parse hook: a successful answer is decoded here and botocore parses an empty
    # one; an error answer is left to botocore, so it raises as it always does.
    if _raw_wanted.get() and response_dict.get("status_code") == 200:
        customized_response_dict[_RAW_ANSWER] = json.loads(response_dict["body"])
        response_dict["body"] = b"{}"


def read_json_answers(streams_client: Any) -> None:
    """Let :func:`get_records_json` read GetRecords answers of ``streams_client`` as decoded JSON;
    its other calls, and GetRecords called as usual, are parsed by botocore as before."""
    streams_client.meta.events.register(
        "before-parse.dynamodb-streams.GetRecords", _keep_json, unique_id="chatshop-get-records-json"
    )


def get_records_json(streams_client: Any, iterator: str, limit: int) -> dict[str, Any]:
    """GetRecords through the client (its signing, retries and errors), answered as decoded JSON."""
    token = _raw_wanted.set(True)
    try:
        response = streams_client.get_records(ShardIterator=iterator, Limit=limit)
    finally:
        _raw_wanted.reset(token)
    return response[_RAW_ANSWER]


def _binary_as_base64(value: Any) -> Any:
    # boto3 hands binary attributes (B, BS) over as bytes; Lambda's JSON event has base64 text.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {k: _binary_as_base64(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_binary_as_base64(v) for v in value]
    return value


def first_failed_record(
    result: InvocationResult, batch: Sequence[Mapping[str, Any]], report: bool
) -> int | None:
    """Where in the batch processing must resume (None: the whole batch succeeded)."""
    if not result.ok:
        return 0
    if not report or not isinstance(result.payload, dict):
        return None
    failures = result.payload.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(batch)}
    failed = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            # Lambda takes a missing or unknown identifier as a failure of the whole batch.
            return 0
        failed.append(positions[identifier])
    return min(failed)


def failure_notice(
    mapping: StreamMapping, shard_id: str, records: Sequence[Mapping[str, Any]], attempts: int, now: datetime
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's on-failure destination: where the records are, not them."""

    def arrival(record: Mapping[str, Any]) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        moment = datetime.fromtimestamp(created, UTC) if isinstance(created, int | float) else now
        return _iso(moment)

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": _iso(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": mapping.stream_arn,
        },
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class StreamPoller(BackgroundLoop):
    """One mapping's poller. The shards are opened when it is made: that moment is LATEST."""

    def __init__(
        self,
        mapping: StreamMapping,
        streams_client: Any,
        sqs_client: Any,
        invoke: Callable[[str, dict], InvocationResult],
        region: str,
        retry_after_s: float = 1.0,
    ) -> None:
        super().__init__()
        self.mapping = mapping
        self._streams = streams_client
        self._sqs = sqs_client
        self._invoke = invoke
        self._region = region
        self._retry_after_s = retry_after_s
        self.name = f"stream:{mapping.stream_arn.split('/')[1]}->{mapping.function}"
        read_json_answers(streams_client)
        self._shards = [self._open(shard["ShardId"]) for shard in self._describe_shards()]

    def _describe_shards(self) -> list[dict[str, Any]]:
        description = self._streams.describe_stream(StreamArn=self.mapping.stream_arn)["StreamDescription"]
        return description.get("Shards", [])

    def _open(self, shard_id: str) -> _Shard:
        iterator = self._streams.get_shard_iterator(
            StreamArn=self.mapping.stream_arn,
            ShardId=shard_id,
            ShardIteratorType=self.mapping.starting_position,
        )["ShardIterator"]
        return _Shard(shard_id, iterator, self.mapping.batch_size)

    def step(self) -> None:
        if not self.poll_once():
            self.wait(_IDLE_WAIT_S)

    def poll_once(self) -> list[StreamBatchOutcome]:
        """Read each shard once and deliver what is due; the outcomes of the batches delivered."""
        outcomes = []
        for shard in self._shards:
            if shard.retry_at > time.monotonic():
                continue
            self._read(shard)
            if self._due(shard):
                outcomes.append(self._deliver(shard))
        return outcomes

    def _read(self, shard: _Shard) -> None:
        if shard.iterator is None or len(shard.pending) >= shard.limit:
            return
        response = get_records_json(self._streams, shard.iterator, _GET_RECORDS_LIMIT)
        shard.iterator = response.get("NextShardIterator")  # None once a shard is closed and read
        records = [
            lambda_stream_record_from_json(r, self.mapping.stream_arn, self._region)
            for r in response.get("Records", [])
        ]
        wanted = [r for r in records if passes(self.mapping.filter_patterns, r)]
        if wanted and not shard.pending:
            shard.pending_since = time.monotonic()
        shard.pending.extend(wanted)

    def _due(self, shard: _Shard) -> bool:
        if not shard.pending:
            return False
        if len(shard.pending) >= shard.limit or shard.attempts:
            return True
        return time.monotonic() - shard.pending_since >= self.mapping.batching_window_s

    def _deliver(self, shard: _Shard) -> StreamBatchOutcome:
        batch = shard.pending[: shard.limit]
        result = self._invoke(self.mapping.function, {"Records": batch})
        failed_at = first_failed_record(result, batch, self.mapping.report_batch_item_failures)
        if failed_at is None:
            del shard.pending[: len(batch)]
            # While bisecting, the failing record may still be ahead: the halves and the count stay
            # until a whole batch goes through or nothing read is left.
            if shard.limit == self.mapping.batch_size or not shard.pending:
                shard.attempts, shard.limit = 0, self.mapping.batch_size
            return StreamBatchOutcome(delivered=len(batch), done=len(batch), retrying=0)
        # What came before the first failure is done; the rest is retried from there.
        del shard.pending[:failed_at]
        failing = batch[failed_at:]
        shard.attempts += 1
        retries = self.mapping.maximum_retry_attempts
        if 0 <= retries < shard.attempts:
            self._give_up(shard, failing)
            del shard.pending[: len(failing)]
            shard.attempts, shard.limit = 0, self.mapping.batch_size
            return StreamBatchOutcome(len(batch), failed_at + len(failing), 0, given_up=len(failing))
        if self.mapping.bisect_on_error and failed_at == 0 and len(failing) > 1:
            shard.limit = len(failing) // 2
        shard.retry_at = time.monotonic() + self._retry_after_s
        log.warning(
            "%s failed on %d of %d stream records; retrying from sequence number %s",
            self.mapping.function,
            len(failing),
            len(batch),
            failing[0]["dynamodb"]["SequenceNumber"],
        )
        return StreamBatchOutcome(len(batch), failed_at, len(failing))

    def _give_up(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        notice = failure_notice(self.mapping, shard.shard_id, records, shard.attempts, datetime.now(UTC))
        if self.mapping.on_failure_queue_url is None:
            log.error("%s gave up on %d stream records: %s", self.mapping.function, len(records), notice)
            return
        self._sqs.send_message(QueueUrl=self.mapping.on_failure_queue_url, MessageBody=json.dumps(notice))
        log.error(
            "%s gave up on %d stream records after %d attempts; noted on its on-failure queue",
            self.mapping.function,
            len(records),
            shard.attempts,
        )
