"""What `chatshop dev` prints: short lines, colour only on a terminal, the status line, `chatshop logs`."""

from __future__ import annotations

import threading
import time

import pytest

from chatshop_local.console import Console
from chatshop_local.functions import InvocationResult
from chatshop_local.invocations import describe
from chatshop_local.logfiles import pretty, read_lines


class Stream:
    def __init__(self, tty: bool, encoding: str = "utf-8") -> None:
        self.text = ""
        self.tty = tty
        self.encoding = encoding

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


def result(payload=None, error=None, ms=12.0) -> InvocationResult:
    return InvocationResult("req-1", payload, error, ms)


def test_outcomes_of_invocations():
    batch = {"Records": [{}, {}, {}]}
    assert describe("F", "SQS Q", batch, result({"batchItemFailures": []})).outcome == "ok"
    partial = describe("F", "SQS Q", batch, result({"batchItemFailures": [{"itemIdentifier": "a"}]}))
    assert (partial.outcome, partial.ok, partial.records) == ("1 of 3 failed", False, 3)
    failed = describe("F", "Api", {}, result(error={"errorType": "KeyError", "errorMessage": "x"}))
    assert (failed.outcome, failed.ok, failed.records) == ("error KeyError", False, None)
    late = describe("F", "Schedule", {}, result(error={"errorType": "Sandbox.Timedout", "errorMessage": ""}))
    assert late.outcome == "timeout"


def test_lines_are_plain_where_the_stream_is_not_a_terminal():
    stream = Stream(tty=False)
    console = Console(stream)
    console.request("GET", "/shops/abc/products", 200, 3.25)
    console.invocation(describe("IndexerFunction", "SQS IndexQueue", {"Records": [{}]}, result({})))
    lines = stream.text.splitlines()
    assert "\x1b[" not in stream.text
    assert lines[0].endswith("GET     /shops/abc/products  200  3.2 ms")
    assert lines[1].endswith("λ IndexerFunction <- SQS IndexQueue  ok  12 ms")


def test_colour_on_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    coloured = Stream(tty=True)
    Console(coloured).request("POST", "/search", 500, 40)
    assert "\x1b[31m500\x1b[0m" in coloured.text

    monkeypatch.setenv("NO_COLOR", "1")
    plain = Stream(tty=True)
    Console(plain).request("POST", "/search", 500, 40)
    assert "\x1b[31m" not in plain.text and "500" in plain.text


def test_ascii_where_the_terminal_is_not_utf8():
    stream = Stream(tty=False, encoding="ascii")
    Console(stream).invocation(describe("F", "Schedule", {}, result({})))
    assert stream.text.encode("ascii") and " fn F <- Schedule" in stream.text


def test_the_status_line_stays_last_on_a_terminal():
    stream = Stream(tty=True)
    console = Console(stream, colour=False)
    console.status("Indexing demo catalog: 1/8 products")
    console.line("a request")
    console.status("Indexing demo catalog: 2/8 products")
    # What the terminal shows once the carriage returns and line clears are applied
    screen = [row.split("\r\x1b[2K")[-1] for row in stream.text.split("\n")]
    assert screen == ["a request", "Indexing demo catalog: 2/8 products"]


def test_each_status_is_a_line_of_its_own_elsewhere():
    stream = Stream(tty=False)
    console = Console(stream)
    for status in ("Indexing: 1/8", "Indexing: 1/8", "Indexing: 2/8", None):
        console.status(status)
    assert stream.text.splitlines() == ["Indexing: 1/8", "Indexing: 2/8"]


def test_a_closed_terminal_does_not_stop_the_caller():
    class Closed(Stream):
        def write(self, text: str) -> None:
            raise BrokenPipeError

    console = Console(Closed(tty=False))
    console.line("nobody reads this")
    console.status("nor this")


def test_pretty_log_lines():
    line = (
        '{"level":"INFO","location":"h:1","message":"Index event applied","timestamp":'
        '"2026-12-01T22:41:42.698+00:00","service":"indexer","shop_id":"s1","images_rejected":{}}'
    )
    assert pretty(line) == "22:41:42.698 INFO    Index event applied  shop_id=s1 images_rejected={}"
    assert pretty("not json") == "not json"


def test_read_lines_follows_a_file_as_it_grows(tmp_path):
    path = tmp_path / "logs" / "F.log"
    got: list[str] = []
    done = threading.Event()

    def follow() -> None:
        for line in read_lines(path, follow=True, poll_s=0.01, stop=done.is_set):
            got.append(line)

    reader = threading.Thread(target=follow)
    reader.start()
    try:
        # Given a file that does not exist yet, then is written in pieces, then truncated
        path.parent.mkdir()
        path.write_text("one\ntw")
        wait_until(lambda: got == ["one"])
        with path.open("a") as out:
            out.write("o\nthree\n")
        wait_until(lambda: got == ["one", "two", "three"])
        path.write_text("fresh\n")
        wait_until(lambda: got[-1:] == ["fresh"])
    finally:
        done.set()
        reader.join(5)
    assert got == ["one", "two", "three", "fresh"]
    # Without follow: what is there now, and the end
    assert list(read_lines(path, follow=False)) == ["fresh"]


def wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition did not come true")
        time.sleep(0.01)


def test_a_pinned_block_keeps_the_top_rows_of_a_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "20")
    stream = Stream(tty=True)
    console = Console(stream, colour=False)
    # A block of three rows, one of them long enough to wrap onto a second row
    console.pin(["chatshop dev: ready", "  API: http://127.0.0.1:8000", "  curl " + "x" * 40])
    # The lines scroll between row 5 (below the four rows of the block) and the last row
    assert "\x1b[5;20r" in stream.text and stream.text.endswith("\x1b[20;1H")
    console.unpin()
    assert stream.text.endswith("\x1b[r\x1b[20;1H\n")


def test_a_pinned_block_is_printed_once_elsewhere(monkeypatch):
    stream = Stream(tty=False)
    console = Console(stream)
    console.pin(["chatshop dev: ready", "Try:"])
    console.unpin()
    assert stream.text == "chatshop dev: ready\nTry:\n"


def test_a_terminal_too_small_for_the_block_gets_it_printed(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "8")
    stream = Stream(tty=True)
    Console(stream, colour=False).pin(["one", "two", "three"])
    assert "r\x1b[" not in stream.text and stream.text.endswith("one\ntwo\nthree\n")
