"""What one invocation was, in words a person reads: the function, what triggered it, how it ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .functions import InvocationResult

API = "Api"
INVOKE = "invoke"


@dataclass(frozen=True)
class Invocation:
    function: str
    trigger: str  # "Api", "SQS IndexQueue", "DynamoDB stream ShopsTable", "S3 MediaBucket", "Schedule", ...
    outcome: str  # "ok", "2 of 10 failed", "error KeyError", "timeout"
    ok: bool
    duration_ms: float
    request_id: str
    records: int | None = None


Observer = Callable[[Invocation], None]


def describe(function: str, trigger: str, event: Any, result: InvocationResult) -> Invocation:
    records = _record_count(event)
    return Invocation(
        function=function,
        trigger=trigger,
        outcome=outcome(result, records),
        ok=result.ok and not _failures(result),
        duration_ms=result.duration_ms,
        request_id=result.request_id,
        records=records,
    )


def outcome(result: InvocationResult, records: int | None) -> str:
    if result.error is not None:
        if result.error.get("errorType") == "Sandbox.Timedout":
            return "timeout"
        return f"error {result.error.get('errorType', 'Error')}"
    failures = _failures(result)
    if failures:
        return f"{failures} of {records} failed" if records else f"{failures} failed"
    return "ok"


def _failures(result: InvocationResult) -> int:
    # A batch's partial failures (ReportBatchItemFailures): the invocation succeeded, some records did not.
    payload = result.payload
    if not isinstance(payload, dict):
        return 0
    failures = payload.get("batchItemFailures")
    return len(failures) if isinstance(failures, list) else 0


def _record_count(event: Any) -> int | None:
    records = event.get("Records") if isinstance(event, dict) else None
    return len(records) if isinstance(records, list) else None
