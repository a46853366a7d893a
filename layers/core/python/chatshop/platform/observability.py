"""The one place Logger, Metrics and Tracer come from (aws-lambda-powertools).

Each is cached per service name, read from ``POWERTOOLS_SERVICE_NAME`` when asked for, because
locally many functions share one process and each sees its own environment. Logs are JSON and
pass through a redaction step: no full phone number, bearer token or secret reaches a log line.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

if TYPE_CHECKING:
    import logging

    from aws_lambda_powertools import Metrics, Tracer

__all__ = [
    "RedactingFormatter",
    "correlation_scope",
    "get_correlation_id",
    "get_logger",
    "get_metrics",
    "get_tracer",
    "redact",
    "redact_text",
    "route_logs",
    "set_correlation_id",
    "tracing_disabled",
]

DEFAULT_SERVICE = "chatshop"
DEFAULT_NAMESPACE = "chatshop"
REDACTED = "***"
_TRUTHY = frozenset({"1", "y", "yes", "t", "true", "on"})  # powertools' strtobool

_loggers: dict[str, Logger] = {}
_metrics: dict[tuple[str, str], Metrics] = {}
_tracers: dict[tuple[str, bool], Tracer] = {}
_lock = threading.Lock()

# Where log lines go: stdout, which Lambda sends to the function's log group, unless the process
# hosting the functions gives a maker of log handlers (the local runtime, which runs every function
# in one process, keeps a log per function that way). Lines are formatted, and so redacted, first.
_handler_factory: Callable[[], logging.Handler] | None = None

_correlation_id: ContextVar[str | None] = ContextVar("chatshop_correlation_id", default=None)


def _service(service: str | None) -> str:
    return service or os.environ.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE


# --- redaction ---------------------------------------------------------------------------------

# Keys whose whole value is a secret, wherever they appear (message dicts, extra=..., nested).
_SECRET_KEY = re.compile(
    r"authorization|access[_-]?token|refresh[_-]?token|id[_-]?token|api[_-]?key|app[_-]?secret|"
    r"client[_-]?secret|secret|password|passwd|signature|cookie|^token$|_token$",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
# key=value, key: value, "key": "value" inside free text (query strings, repr()s, JSON dumps).
_SECRET_PAIR = re.compile(
    r"""(?P<key>["']?\b(?:access_token|refresh_token|api_key|apikey|app_secret|client_secret|"""
    r"""password|secret|token|authorization)\b["']?\s*[:=]\s*["']?)(?!bearer\b|\*\*\*)[^"'\s&,;}]+""",
    re.IGNORECASE,
)
# Meta Graph API access tokens start with EAA and run long, and may appear bare (e.g. in URLs).
_META_TOKEN = re.compile(r"\bEAA[A-Za-z0-9]{20,}")
# E.164-ish: a run of 8+ digits, optionally after "+"; the last four digits stay readable. A run
# glued to letters on either side is part of an identifier (a hex event id), not a phone number.
_PHONE = re.compile(r"(?<![\w.\-])(\+?)(\d{4,})(\d{4})(?!\w)")

# Keys that powertools fills itself; their digit runs (X-Ray ids, request ids) are not phones.
_TRUSTED_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "correlation_id",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "exception_name",
    }
)


def redact_text(text: str) -> str:
    """Mask phone numbers (keep the last 4 digits) and redact tokens and secrets in free text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
    text = _META_TOKEN.sub(f"EAA{REDACTED}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}{'*' * len(m.group(2))}{m.group(3)}", text)


def redact(value: Any) -> Any:
    """Redact a log value recursively: secret-named keys wholesale, strings by :func:`redact_text`.

    Numbers are left alone (a phone number sent as a JSON number is not caught); anything that is
    not JSON-native is stringified first, as the log serializer would do anyway.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: REDACTED if _is_secret(key, item) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact_text(str(value))


def _is_secret(key: Any, item: Any) -> bool:
    return isinstance(key, str) and item is not None and bool(_SECRET_KEY.search(key))


class RedactingFormatter(LambdaPowertoolsFormatter):
    """The powertools JSON formatter with a redaction step over the finished log dict.

    Working on the finished dict (rather than a logging.Filter on the record) covers the message,
    ``extra=`` fields, appended keys and the exception text alike.
    """

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        cleaned = {
            key: value if key in _TRUSTED_KEYS else REDACTED if _is_secret(key, value) else redact(value)
            for key, value in log.items()
        }
        return super().serialize(cleaned)  # type: ignore[arg-type]


# --- logger, metrics, tracer ---------------------------------------------------------------------


def get_logger(service: str | None = None) -> Logger:
    """The JSON Logger of ``service`` (default: ``POWERTOOLS_SERVICE_NAME`` now, else "chatshop")."""
    name = _service(service)
    logger = _loggers.get(name)
    if logger is not None:
        return logger
    with _lock:
        logger = _loggers.get(name)
        if logger is None:
            handler = _handler_factory() if _handler_factory is not None else None
            logger = Logger(
                service=name,
                logger_formatter=RedactingFormatter(utc=True, use_rfc3339=True),
                logger_handler=handler,
            )
            # powertools reuses a std logger another Logger(service=name) configured first, and
            # with it that one's formatter: make sure ours does the formatting.
            if not isinstance(logger.registered_formatter, RedactingFormatter):
                formatter = RedactingFormatter(utc=True, use_rfc3339=True)
                formatter.append_keys(service=name)
                logger.registered_handler.setFormatter(formatter)
            _loggers[name] = logger
    return logger


def route_logs(factory: Callable[[], logging.Handler] | None) -> None:
    """Give loggers made from now on a handler from ``factory`` instead of one writing to stdout."""
    global _handler_factory
    _handler_factory = factory


def get_metrics(service: str | None = None, namespace: str | None = None) -> Metrics:
    """The CloudWatch EMF Metrics of ``service``, in ``namespace`` (default:
    ``POWERTOOLS_METRICS_NAMESPACE`` now, else "chatshop").

    powertools' Metrics keeps its metric buffer in class attributes shared by every instance in
    the process; each service here gets its own provider and buffer, so functions sharing a
    process locally never flush each other's metrics.
    """
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    name = _service(service)
    ns = namespace or os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    key = (name, ns)
    with _lock:
        metrics = _metrics.get(key)
        if metrics is None:
            provider = AmazonCloudWatchEMFProvider(
                namespace=ns,
                service=name,
                metric_set={},
                dimension_set={},
                metadata_set={},
                default_dimensions={},
            )
            metrics = Metrics(service=name, namespace=ns, provider=provider)
            _metrics[key] = metrics
    return metrics


def tracing_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """powertools' own rule, read now: off if ``POWERTOOLS_TRACE_DISABLED`` is truthy, or outside
    Lambda (no ``LAMBDA_TASK_ROOT``), or under SAM local / chalice local, where no X-Ray daemon listens."""
    env = os.environ if environ is None else environ
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUTHY:
        return True
    in_emulator = bool(env.get("AWS_SAM_LOCAL") or env.get("AWS_CHALICE_CLI_MODE"))
    return not env.get("LAMBDA_TASK_ROOT") or in_emulator


def get_tracer(service: str | None = None) -> Tracer:
    """The X-Ray Tracer of ``service``, disabled where X-Ray is not available.

    ``disabled`` is decided here, at call time, and passed explicitly. Note that powertools'
    Tracer shares its config process-wide (a Borg) and that disabling is sticky: once any Tracer
    in the process is disabled, every later one is too.
    """
    from aws_lambda_powertools import Tracer

    name = _service(service)
    disabled = tracing_disabled()
    key = (name, disabled)
    with _lock:
        tracer = _tracers.get(key)
        if tracer is None:
            tracer = Tracer(service=name, disabled=disabled)
            _tracers[key] = tracer
    return tracer


# --- correlation id ------------------------------------------------------------------------------


def get_correlation_id() -> str | None:
    """The correlation id of the invocation running in this context, if any."""
    return _correlation_id.get()


def set_correlation_id(value: str | None) -> None:
    """Set the correlation id for this context: in our contextvar and in every JSON log line.

    Uses powertools' context-local keys (``thread_safe_append_keys``) rather than
    ``Logger.set_correlation_id``: the latter writes into the formatter shared by every thread
    of a service, so two concurrent invocations in one local process would swap ids.
    """
    _correlation_id.set(value)
    # None is dropped from log lines by powertools, which is how the key is cleared.
    get_logger().thread_safe_append_keys(correlation_id=value)


@contextlib.contextmanager
def correlation_scope(value: str | None) -> Iterator[None]:
    """Set the correlation id for the duration of a block, then restore the previous one."""
    previous = get_correlation_id()
    set_correlation_id(value)
    try:
        yield
    finally:
        set_correlation_id(previous)
