"""Each function's log lines go to its own file, though every function runs in this one process.

Two small functions are written to a temporary code folder and run by the local runtime as it runs
the template's: each logs through the platform's powertools logger and through a plain library
logger, concurrently, and each file must hold that function's lines only, redacted as on Lambda.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from chatshop.platform import observability
from chatshop_local import environ
from chatshop_local.console import Console, ConsoleLogHandler
from chatshop_local.deploy import DeployedFunction
from chatshop_local.functions import LocalFunction
from chatshop_local.logfiles import UNROUTED, FunctionLogHandler, FunctionLogs, LibraryLogRouter, log_path
from chatshop_local.template import FunctionSpec

HANDLER = """
import logging

from chatshop.platform.observability import get_logger

logger = get_logger()
library = logging.getLogger("some.library")


def handler(event, context):
    logger.info("order placed", extra={"customer_phone": event["phone"], "order": event["order"]})
    library.info("library says %s", event["order"])
    return {"ok": True}
"""


class Terminal:
    """A stream that keeps what was written, as a terminal would show it."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def make_function(code_root: Path, logical_id: str, service: str) -> LocalFunction:
    code_dir = code_root / logical_id
    code_dir.mkdir(parents=True)
    (code_dir / "handler.py").write_text(HANDLER)
    spec = FunctionSpec(logical_id=logical_id, code_dir=code_dir, handler="handler.handler")
    deployed = DeployedFunction(
        logical_id=logical_id,
        name=f"fn-{logical_id}",
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:fn-{logical_id}",
        handler="handler.handler",
        timeout_s=30,
        memory_mb=128,
        environment={"POWERTOOLS_SERVICE_NAME": service},
    )
    env = {**environ.process_environ(), "POWERTOOLS_SERVICE_NAME": service}
    return LocalFunction(spec, deployed, env, max_sandboxes=2)


@pytest.fixture
def routed(tmp_path):
    """The logging of `chatshop dev`: powertools loggers and the root logger routed to the files."""
    # Loggers are made once per service name and process: each test names services of its own.
    services = {
        "orders-test": "OrdersFunction",
        "billing-test": "BillingFunction",
        "seed-test": "ShopsFunction",
    }
    terminal = Terminal()
    logs = FunctionLogs(tmp_path / "state")
    root = logging.getLogger()
    router = LibraryLogRouter(logs, frozenset(services), ConsoleLogHandler(Console(terminal)))
    root.addHandler(router)
    level = root.level
    root.setLevel(logging.INFO)
    observability.route_logs(lambda: FunctionLogHandler(logs, services))
    try:
        yield tmp_path / "state", logs, terminal
    finally:
        observability.route_logs(None)
        root.removeHandler(router)
        root.setLevel(level)
        logs.close()


def lines_of(state_dir: Path, logical_id: str) -> list[dict]:
    return [json.loads(line) for line in log_path(state_dir, logical_id).read_text().splitlines()]


def test_each_function_logs_to_its_own_file_redacted(routed, tmp_path):
    state_dir, _logs, terminal = routed
    # Given two functions run by the local runtime, each with its own service name
    orders = make_function(tmp_path / "code", "OrdersFunction", "orders-test")
    billing = make_function(tmp_path / "code", "BillingFunction", "billing-test")

    # When both are invoked many times at once, from several threads
    def invoke_many(function: LocalFunction, order_prefix: str) -> None:
        for i in range(20):
            result = function.invoke({"phone": "+15550123456", "order": f"{order_prefix}-{i}"})
            assert result.ok, result.error

    threads = [
        threading.Thread(target=invoke_many, args=(function, prefix))
        for function, prefix in ((orders, "o"), (billing, "b"), (orders, "o"), (billing, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each file holds its own function's lines only: 40 from powertools and 40 from the library
    for logical_id, service, prefix in (
        ("OrdersFunction", "orders-test", "o"),
        ("BillingFunction", "billing-test", "b"),
    ):
        lines = lines_of(state_dir, logical_id)
        ours = [line for line in lines if line.get("service") == service]
        library = [line for line in lines if line.get("logger") == "some.library"]
        assert len(ours) == 40 and len(library) == 40 and len(lines) == 80
        assert all(line["order"].startswith(f"{prefix}-") for line in ours)
        assert all(line["message"].startswith(f"library says {prefix}-") for line in library)
        # And the phone number is masked as in any other log line, the last four digits kept
        assert {line["customer_phone"] for line in ours} == {"+*******3456"}
    # And nothing of it reached the terminal
    assert terminal.text == ""


def test_lines_written_outside_any_function(routed):
    state_dir, _logs, terminal = routed
    # A powertools logger used outside any invocation (the demo seeding): its owner by service name
    observability.get_logger("seed-test").info("seeded")
    # One of no known service: the file of what no function wrote
    observability.get_logger("nobody-test").info("stray")
    # A library outside any function: the terminal, as the runtime's own lines
    logging.getLogger("chatshop.local.test").warning("the runtime speaks")

    assert [line["message"] for line in lines_of(state_dir, "ShopsFunction")] == ["seeded"]
    assert [line["message"] for line in lines_of(state_dir, UNROUTED)] == ["stray"]
    assert "warning chatshop.local.test: the runtime speaks" in terminal.text


def test_a_report_line_per_invocation_and_the_echo_of_verbose(tmp_path):
    echoed: list[tuple[str, str]] = []
    logs = FunctionLogs(tmp_path, echo=lambda logical_id, line: echoed.append((logical_id, line)))
    try:
        logs.write("OrdersFunction", '{"message": "order placed"}')
        logs.report("OrdersFunction", {"trigger": "SQS OrdersQueue", "outcome": "ok", "duration_ms": 3.2})
    finally:
        logs.close()
    placed, report = lines_of(tmp_path, "OrdersFunction")
    assert (
        report["message"] == "REPORT" and report["trigger"] == "SQS OrdersQueue" and report["outcome"] == "ok"
    )
    # The function's own lines are echoed (--verbose); the report is not: the terminal has its line
    assert echoed == [("OrdersFunction", '{"message": "order placed"}')]


def test_a_runtime_failure_outside_any_function_keeps_its_traceback_in_a_file(routed):
    state_dir, _logs, terminal = routed
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("chatshop.local.test").exception("a poller step failed")
    # The terminal gets the one line, and where the traceback went
    assert (
        "error chatshop.local.test: a poller step failed (traceback in logs/chatshop-dev.log)"
        in terminal.text
    )
    assert "Traceback" not in terminal.text
    (entry,) = lines_of(state_dir, UNROUTED)
    assert entry["message"] == "a poller step failed" and "ValueError: boom" in entry["exception"]
