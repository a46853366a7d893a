"""Logger, Metrics and Tracer from one place; JSON logs that never hold a phone number or a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatshop.platform.observability import (
    correlation_scope,
    get_correlation_id,
    get_logger,
    get_metrics,
    get_tracer,
    redact_text,
    set_correlation_id,
    tracing_disabled,
)


def _log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from +15551231234", "from +*******1234"),
        ("wa_id 4915112345678 wrote", "wa_id *********5678 wrote"),
        ("short 1234567 stays", "short 1234567 stays"),
        ("event 12348766a011406fbd81 is an id", "event 12348766a011406fbd81 is an id"),
        ("to:+15551231234.", "to:+*******1234."),
        ("Authorization: Bearer eyJhbGciOi.J9.x-y_z", "Authorization: Bearer ***"),
        ("GET /me?access_token=EAAGm0PX4ZCpsBA&fields=id", "GET /me?access_token=***&fields=id"),
        ('{"api_key": "sk_live_abc", "n": 1}', '{"api_key": "***", "n": 1}'),
        ("app_secret=0123abcd", "app_secret=***"),
        ("token EAAGm0PX4ZCpsBAabcdefghijklmnop seen", "token EAA*** seen"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_log_lines_are_json_with_phones_masked_and_secrets_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given
    logger = get_logger()

    # When secrets and phone numbers reach the message and extra fields
    logger.info(
        "Message from +15551231234 with Bearer abc.def.ghi",
        extra={
            "wa_id": "15551231234",
            "access_token": "EAAGm0PX4ZCpsBA",
            "headers": {"Authorization": "Bearer abc", "X-Api-Key": "k-123", "Accept": "json"},
            "recipients": ["+4915112345678"],
            "count": 3,
        },
    )

    # Then
    (line,) = _log_lines(capsys)
    assert line["level"] == "INFO"
    assert line["message"] == "Message from +*******1234 with Bearer ***"
    assert line["wa_id"] == "*******1234"
    assert line["access_token"] == "***"
    assert line["headers"] == {"Authorization": "***", "X-Api-Key": "***", "Accept": "json"}
    assert line["recipients"] == ["+*********5678"]
    assert line["count"] == 3
    assert "EAAGm0PX4ZCpsBA" not in json.dumps(line) and "5551231234" not in json.dumps(line)


def test_a_dict_message_and_an_exception_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    logger = get_logger()

    logger.info({"event": "order", "phone": "+15551231234", "app_secret": "shh"})
    try:
        raise ValueError("cannot reach +15551231234 with api_key=sk_live_1")
    except ValueError:
        logger.exception("send failed")

    first, second = _log_lines(capsys)
    assert first["message"] == {"event": "order", "phone": "+*******1234", "app_secret": "***"}
    assert "ValueError" in second["exception"]
    assert "+15551231234" not in json.dumps(second) and "sk_live_1" not in json.dumps(second)


def test_loggers_are_cached_per_service_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "svc-one")
    one = get_logger()
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "svc-two")

    assert get_logger() is not one
    assert get_logger().service == "svc-two"
    assert get_logger("svc-one") is one


def test_correlation_id_goes_into_every_log_line_and_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    logger = get_logger()

    with correlation_scope("c0ffee-12345678901"):
        assert get_correlation_id() == "c0ffee-12345678901"
        logger.info("inside")
    logger.info("outside")

    inside, outside = _log_lines(capsys)
    # Digit runs in the correlation id are not mistaken for a phone number.
    assert inside["correlation_id"] == "c0ffee-12345678901"
    assert "correlation_id" not in outside
    assert get_correlation_id() is None


def test_set_correlation_id_for_event_functions() -> None:
    set_correlation_id("msg-1")
    try:
        assert get_correlation_id() == "msg-1"
    finally:
        set_correlation_id(None)


def test_metrics_are_per_service_and_do_not_share_a_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two services in one process (powertools' Metrics shares one buffer by default)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "chatshop-test")
    orders = get_metrics("orders-svc")
    ads = get_metrics("ads-svc")

    # When one records a metric
    orders.add_metric(name="OrderPlaced", unit="Count", value=1)

    # Then the other's buffer stays empty
    try:
        assert get_metrics("orders-svc") is orders
        assert orders.provider.namespace == "chatshop-test"
        assert "OrderPlaced" in orders.provider.metric_set
        assert ads.provider.metric_set == {}
    finally:
        orders.clear_metrics()


@pytest.mark.parametrize(
    ("environ", "disabled"),
    [
        ({}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, True),
    ],
)
def test_tracing_is_disabled_where_x_ray_is_not(environ: dict[str, str], disabled: bool) -> None:
    assert tracing_disabled(environ) is disabled


def test_a_tracer_outside_lambda_is_disabled_and_harmless() -> None:
    tracer = get_tracer()

    @tracer.capture_method
    def work() -> int:
        return 42

    assert tracer.disabled
    assert work() == 42
    assert get_tracer() is tracer


def test_redaction_holds_even_if_a_plain_powertools_logger_claimed_the_service_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given some code that built its own powertools Logger for the service first
    import uuid

    from aws_lambda_powertools import Logger

    service = f"claimed-{uuid.uuid4().hex[:8]}"
    Logger(service=service)

    # When our logger for that service logs a phone number
    get_logger(service).info("call +15551231234")

    # Then it is still masked
    (line,) = _log_lines(capsys)
    assert line["message"] == "call +*******1234"
    assert line["service"] == service
