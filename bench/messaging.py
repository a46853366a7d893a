"""WhatsApp messaging figures through the local gateway: webhook latency at a steady rate, replies/s.

Runs the project's whole stack (``template.yaml``) on the embedded AWS with the Graph API emulator,
connects shops to WhatsApp numbers, then

1. posts signed text webhooks open-loop at a steady rate (fixed send times, several keep-alive
   sender threads) and times each from its scheduled send time to its 200, so queueing shows; a
   stack that falls ``--max-behind`` seconds behind the schedule stops the run (the rest count as
   never sent), and the run waits for the replies to what it sent before the next one starts;
2. posts N texts as fast as the webhook takes them and waits until every one has its reply in the
   emulator's outbox (matched by ``context.message_id``), for replies/s end to end.

The texts are greetings, which the inbound worker answers itself (the welcome, or to a customer it
welcomed minutes before, a short greeting), so this measures the channel; ``bench/assistant.py``
measures the assistant's other replies, questions among them.

Prints figures; never asserts on time, but exits non-zero when something is wrong: a webhook not
answered 200, a message without its reply, a message replied to twice, a dead-lettered unit.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import http.client
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _stack import BenchStack, running_stack  # noqa: E402
from _stats import percentile, summary  # noqa: E402

from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "whatsapp" / "pywa__text.json"
WEBHOOK_PATH = "/webhooks/whatsapp"
GREETING_OPENINGS = ("Welcome to", "Hi ", "Hi again")
MESSAGES_PER_NUMBER_PER_S = 80  # Meta's default throughput per number; the sender and the emulator keep it
PROGRESS_EVERY_S = 10.0


def fail(message: str) -> None:
    raise SystemExit(f"FAILED: {message}")


# --- HTTP ---------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection to the gateway; reconnects after a connection error."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.token: str | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        sent = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            raise

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        got, raw = self.request(method, path, payload, headers)
        if got != status:
            fail(f"{method} {path}: expected {status}, got {got}: {raw[:2000]!r}")
        return json.loads(raw) if raw else None

    def close(self) -> None:
        self.connection.close()


# --- webhook bodies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    shop_id: str
    phone_number_id: str


class Texts:
    """Signed text webhooks from the fixture: a new message id and a fresh timestamp each time."""

    def __init__(self, run: str, customers: int) -> None:
        self.template = json.loads(FIXTURE.read_bytes())
        self.run = run
        self.customers = [f"1555{i:07d}" for i in range(customers)]

    def build(self, number: Number, index: int) -> tuple[bytes, str, str]:
        """The body, its message id and its customer, for the ``index``-th message of the run."""
        document = copy.deepcopy(self.template)
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = number.phone_number_id
        customer = self.customers[index % len(self.customers)]
        contact = value["contacts"][0]
        contact["wa_id"] = customer
        contact["profile"]["name"] = f"Customer {index % len(self.customers)}"
        contact.pop("user_id", None)
        contact.pop("parent_user_id", None)
        message = value["messages"][0]
        message["from"] = customer
        message["id"] = f"wamid.bench-{self.run}-{index:07d}"
        message["timestamp"] = str(int(time.time()))
        message["text"]["body"] = "Hi"
        return json.dumps(document, ensure_ascii=False).encode(), message["id"], customer


def signed_headers(body: bytes) -> dict[str, str]:
    digest = hmac.new(LOCAL_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


# --- set-up -------------------------------------------------------------------------------------


def set_up(url: str, phone_number_ids: list[str]) -> list[Number]:
    """One merchant with one shop per phone number, each shop's WhatsApp channel connected."""
    client = Client(url)
    try:
        merchant = client.expect(201, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})
        client.token = merchant["api_key"]
        numbers = []
        for i, phone_number_id in enumerate(phone_number_ids):
            shop = client.expect(
                201, "POST", "/shops", {"name": f"Bench shop {i}", "country": "US", "currency": "USD"}
            )
            client.expect(
                200,
                "PUT",
                f"/shops/{shop['id']}/channels/whatsapp",
                {
                    "phone_number_id": phone_number_id,
                    "waba_id": f"10229012934{i:04d}",
                    "display_phone_number": f"+1 555 123 {i:04d}",
                    "access_token": f"EAAG-bench-token-{i:04d}-0123456789",
                },
            )
            numbers.append(Number(shop["id"], phone_number_id))
        return numbers
    finally:
        client.close()


# --- 1. webhook latency at a steady rate --------------------------------------------------------


@dataclass
class Sample:
    index: int
    scheduled: float
    started: float
    finished: float
    status: int  # 0: no answer (connection error)
    message_id: str
    customer: str


NOT_SENT = -1  # a Sample's status when the run stopped before sending it: it was too far behind


def steady_rate(
    url: str, texts: Texts, number: Number, rate: float, seconds: float, senders: int, max_behind_s: float
) -> tuple[list[Sample], float, list[str]]:
    """Open loop: message i is due at start + i / rate whatever came before; latency counts from then.

    Once a message is due more than ``max_behind_s`` ago when a sender gets to it, the system is not
    keeping up: the rest are not sent (status NOT_SENT), so the run stays bounded in time.
    """
    total = round(rate * seconds)
    interval = 1.0 / rate
    samples: list[Sample] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(total))
    start = time.perf_counter() + 0.2  # every sender connected and waiting
    stopped = threading.Event()

    def sender() -> None:
        client = Client(url, timeout=60)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                scheduled = start + index * interval
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elif stopped.is_set() or -delay > max_behind_s:
                    stopped.set()
                    now = time.perf_counter()
                    with lock:
                        samples.append(Sample(index, scheduled, now, now, NOT_SENT, "", ""))
                    continue
                body, message_id, customer = texts.build(number, index)
                started = time.perf_counter()
                status, raw = post_signed(client, body)
                finished = time.perf_counter()
                with lock:
                    samples.append(Sample(index, scheduled, started, finished, status, message_id, customer))
                    if status != 200:
                        errors.append(f"message {index}: status {status}: {raw[:300]!r}")
        finally:
            client.close()

    run_threads(sender, senders, "bench-sender")
    samples.sort(key=lambda s: s.index)
    return samples, start, errors


def _ms(value: float) -> str:
    return "not sent" if value == float("inf") else f"{value:.1f} ms"


def report_steady(
    samples: list[Sample],
    start: float,
    warmup_s: float,
    rate: float,
    max_behind_s: float,
    function_ms: list[float],
) -> None:
    measured = [s for s in samples if s.scheduled - start >= warmup_s]
    sent = [s for s in measured if s.status != NOT_SENT]
    ok = [s for s in sent if s.status == 200]
    unsent = len(measured) - len(sent)
    # A message never sent has no latency: it counts as infinitely late (over 1 s, and in the tail).
    latency_ms = [(s.finished - s.scheduled) * 1000 for s in ok] + [float("inf")] * unsent
    if not ok:
        print(f"webhook latency @ {rate:.0f}/s: no measured webhook was answered 200 ({unsent} not sent)")
        return
    over_1s = sum(ms > 1000 for ms in latency_ms) / len(latency_ms)
    print(
        f"webhook latency @ {rate:.0f}/s   p50 {_ms(percentile(latency_ms, 0.50))}, "
        f"p99 {_ms(percentile(latency_ms, 0.99))}, max {_ms(max(latency_ms))}, over 1 s {over_1s:.2%}  "
        f"(n={len(latency_ms)} due, {warmup_s:g} s warm-up not counted)"
    )
    print("  target p99 < 100 ms; Meta: median 250 ms, < 1% over 1 s")
    sent_window = max(s.started for s in sent) - min(s.scheduled for s in sent)
    answered_window = max(s.finished for s in ok) - min(s.scheduled for s in ok)
    print(
        f"  achieved rate: {len(sent) / sent_window:.1f} sent/s, {len(ok) / answered_window:.1f} answered "
        f"200/s (asked {rate:.0f}/s); sent {len(sent):,} of {len(measured):,} due, "
        f"non-200 {len(sent) - len(ok)}"
    )
    if unsent:
        print(
            f"  OVERLOADED: the run stopped sending once a webhook was due over {max_behind_s:g} s ago; "
            f"{unsent:,} of the {len(measured):,} measured webhooks were never sent"
        )
    late_ms = [(s.started - s.scheduled) * 1000 for s in sent]
    print(f"  send start after its due time   {summary(late_ms)}, max {max(late_ms):.1f} ms")
    print(f"  answered 200, from send start   {summary([(s.finished - s.started) * 1000 for s in ok])}")
    if function_ms:
        print(f"  webhook function invocations    {summary(function_ms)} (incl. Meta's status webhooks)")


# --- replies in the outbox ----------------------------------------------------------------------


@dataclass
class Outbox:
    """What the Graph emulator accepted from the given numbers, as replies to our message ids."""

    graph: Any
    numbers: list[Number]
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    strays: list[dict[str, Any]] = field(default_factory=list)

    def read(self, expected: dict[str, str]) -> None:
        replies: dict[str, list[dict[str, Any]]] = {}
        strays = []
        for number in self.numbers:
            for entry in self.graph.outbox(phone_number_id=number.phone_number_id):
                reply_to = ((entry.get("body") or {}).get("context") or {}).get("message_id")
                if reply_to in expected:
                    replies.setdefault(reply_to, []).append(entry)
                else:
                    strays.append(entry)
        self.replies, self.strays = replies, strays

    def answered(self) -> int:
        return len(self.replies)


def wait_for_replies(
    outbox: Outbox, expected: dict[str, str], timeout: float, poll_s: float, label: str
) -> float | None:
    """Poll until every expected message has a reply; the time it was seen, or None on time-out."""
    deadline = time.perf_counter() + timeout
    next_progress = time.perf_counter() + PROGRESS_EVERY_S
    while True:
        outbox.read(expected)
        now = time.perf_counter()
        if outbox.answered() >= len(expected):
            return now
        if now > deadline:
            return None
        if now > next_progress:
            print(f"  ... {label}: {outbox.answered():,} of {len(expected):,} answered", flush=True)
            next_progress = now + PROGRESS_EVERY_S
        time.sleep(poll_s)


def said(body: dict[str, Any]) -> str:
    """A text's body, or an interactive message's body text."""
    if body.get("type") == "text":
        return str((body.get("text") or {}).get("body", ""))
    return str(((body.get("interactive") or {}).get("body") or {}).get("text", ""))


def check_replies(outbox: Outbox, expected: dict[str, str], label: str) -> list[str]:
    problems = []
    missing = [m for m in expected if m not in outbox.replies]
    doubled = {m: len(r) for m, r in outbox.replies.items() if len(r) > 1}
    wrong = [
        m
        for m, replies in outbox.replies.items()
        for r in replies
        if r["to"] != expected[m] or not said(r.get("body") or {}).startswith(GREETING_OPENINGS)
    ]
    if missing:
        problems.append(f"{label}: {len(missing)} messages without a reply, e.g. {missing[:3]}")
    if doubled:
        sample = dict(list(doubled.items())[:3])
        problems.append(f"{label}: {len(doubled)} messages replied to more than once, e.g. {sample}")
    if wrong:
        problems.append(f"{label}: {len(wrong)} replies to the wrong customer or not the greeting")
    if outbox.strays:
        problems.append(
            f"{label}: {len(outbox.strays)} outbox entries from the bench numbers that answer none of "
            f"its messages, e.g. {outbox.strays[:1]}"
        )
    return problems


# --- 2. sustained inbound texts -> replies ------------------------------------------------------


def post_all(
    url: str, texts: Texts, numbers: list[Number], count: int, threads: int
) -> tuple[dict[str, str], float, float, list[str]]:
    """Post ``count`` texts as fast as the webhook answers: expected replies, first and last post."""
    expected: dict[str, str] = {}
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(count))
    times: list[float] = []

    def poster() -> None:
        client = Client(url, timeout=60)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                number = numbers[index % len(numbers)]
                body, message_id, customer = texts.build(number, index)
                started = time.perf_counter()
                status, raw = post_signed(client, body)
                with lock:
                    times.append(started)
                    expected[message_id] = customer
                    if status != 200:
                        errors.append(f"{message_id}: status {status}: {raw[:300]!r}")
        finally:
            client.close()

    run_threads(poster, threads, "bench-poster")
    return expected, min(times), time.perf_counter(), errors


def post_signed(client, body: bytes) -> tuple[int, bytes]:
    """A webhook POST signed like Meta's; a connection failure counts as status 0."""
    try:
        return client.request("POST", WEBHOOK_PATH, body, signed_headers(body))
    except (OSError, http.client.HTTPException) as exc:
        return 0, repr(exc).encode()


def run_threads(target, count: int, name: str) -> None:
    threads = [threading.Thread(target=target, name=f"{name}-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def dead_letters(bench: BenchStack) -> dict[str, int]:
    assert bench.stack.clients is not None and bench.stack.stack is not None
    sqs = bench.stack.clients.client("sqs")
    depths = {}
    for logical_id in ("InboundDeadLetterQueue", "OutboundDeadLetterQueue"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=bench.stack.stack.physical_id(logical_id),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[logical_id] = int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="webhooks/s of the steady-rate run")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds of the steady run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds at the rate before measuring")
    parser.add_argument("--senders", type=int, default=16, help="sender threads of the steady run")
    parser.add_argument(
        "--max-behind",
        type=float,
        default=30.0,
        help="stop the steady run once a webhook is due this many seconds ago (the stack is not keeping up)",
    )
    parser.add_argument("--customers", type=int, default=200, help="distinct customers writing")
    parser.add_argument("--messages", type=int, default=300, help="texts of the replies run (0 skips)")
    parser.add_argument("--post-threads", type=int, default=4, help="posting threads of the replies run")
    parser.add_argument(
        "--numbers",
        type=int,
        default=1,
        help=f"shops/phone numbers the replies run spreads over (Meta: {MESSAGES_PER_NUMBER_PER_S}/s each)",
    )
    parser.add_argument("--reply-timeout", type=float, default=900.0, help="seconds to wait for replies")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between outbox reads")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to look for late doubles")
    parser.add_argument("--skip-steady", action="store_true", help="only the replies run")
    args = parser.parse_args()
    if min(args.rate, args.seconds, args.max_behind, args.poll) <= 0 or args.warmup < 0:
        parser.error("--rate, --seconds, --max-behind and --poll must be positive, --warmup at least 0")
    if min(args.senders, args.customers, args.post_threads, args.numbers) < 1 or args.messages < 0:
        parser.error("--senders, --customers, --post-threads and --numbers must be at least 1")

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.basicConfig(level=logging.WARNING)
    for name in ("chatshop.local.gateway", "chatshop.local.graph", "chatshop.local.sqs"):
        logging.getLogger(name).setLevel(logging.WARNING)

    with running_stack(TEMPLATE) as bench:
        print(f"stack started in {bench.started_in_s:.1f} s at {bench.url}")
        # The template's Globals set POWERTOOLS_LOG_LEVEL=INFO, and a function's own variables win over
        # the process's: quiet each function before its first invocation (its cold start reads it).
        for function in bench.stack.functions.values():
            function.environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        problems = run(bench, args)
    if problems:
        for problem in problems:
            print(f"PROBLEM: {problem}")
        raise SystemExit(1)


def run(bench: BenchStack, args: argparse.Namespace) -> list[str]:
    steady_number_id = "1122334455667"
    reply_number_ids = [f"2233445566{i:03d}" for i in range(args.numbers)]
    started = time.perf_counter()
    numbers = set_up(bench.url, [steady_number_id, *reply_number_ids])
    elapsed = time.perf_counter() - started
    print(f"set up: 1 merchant, {len(numbers)} shops with WhatsApp numbers in {elapsed:.1f} s")
    stamp = int(time.time())
    assert bench.stack.graph is not None
    problems: list[str] = []

    if not args.skip_steady:
        problems += steady_run(bench, args, Texts(f"{stamp}-s", args.customers), numbers[0])
    if args.messages:
        problems += replies_run(bench, args, Texts(f"{stamp}-r", args.customers), numbers[1:])

    depths = dead_letters(bench)
    print(f"dead-letter queues: {depths}")
    if any(depths.values()):
        problems.append(f"units were dead-lettered: {depths}")
    return problems


def steady_run(bench: BenchStack, args: argparse.Namespace, texts: Texts, number: Number) -> list[str]:
    calls_before = len(bench.function_ms)
    samples, start, errors = steady_rate(
        bench.url, texts, number, args.rate, args.warmup + args.seconds, args.senders, args.max_behind
    )
    function_ms = bench.function_ms[calls_before:]
    report_steady(samples, start, args.warmup, args.rate, args.max_behind, function_ms)
    problems = [f"steady run: {len(errors)} webhooks not answered 200, e.g. {errors[:3]}"] if errors else []

    # Its replies, before the replies run starts, so that run has the stack to itself.
    expected = {s.message_id: s.customer for s in samples if s.status == 200}
    outbox = Outbox(bench.stack.graph, [number])
    seen = wait_for_replies(outbox, expected, args.reply_timeout, args.poll, "steady run's replies")
    finished = max((s.finished for s in samples if s.status != NOT_SENT), default=start)
    if seen is None:
        print(f"  its replies: {outbox.answered():,} of {len(expected):,} after {args.reply_timeout:.0f} s")
    else:
        print(
            f"  its replies: all {len(expected):,} in the outbox {seen - finished:.1f} s after the last "
            f"webhook ({len(expected) / (seen - start):.1f} replies/s from the first)"
        )
    return problems + check_replies(outbox, expected, "steady run")


def replies_run(
    bench: BenchStack, args: argparse.Namespace, texts: Texts, numbers: list[Number]
) -> list[str]:
    outbox = Outbox(bench.stack.graph, numbers)
    expected, first_post, last_post, errors = post_all(
        bench.url, texts, numbers, args.messages, args.post_threads
    )
    posted_s = last_post - first_post
    print(
        f"replies run: posted {len(expected):,} texts over {len(numbers)} number(s) in {posted_s:.2f} s "
        f"({len(expected) / posted_s:.0f} webhooks/s, {args.post_threads} threads); non-200 {len(errors)}"
    )
    problems = [f"replies run: {len(errors)} webhooks not answered 200, e.g. {errors[:3]}"] if errors else []
    seen = wait_for_replies(outbox, expected, args.reply_timeout, args.poll, "replies")
    if seen is None:
        problems.append(
            f"replies run: {outbox.answered():,} of {len(expected):,} messages answered after "
            f"{args.reply_timeout:.0f} s"
        )
    else:
        elapsed = seen - first_post
        print(
            f"inbound texts -> replies   {len(expected) / elapsed:.1f} replies/s  "
            f"({len(expected):,} replies, {elapsed:.2f} s from the first post to the last reply, "
            f"read every {args.poll:g} s)"
        )
        print(
            f"  target >= 100/s on this machine; Meta lets one number send {MESSAGES_PER_NUMBER_PER_S}/s, "
            f"so {len(numbers)} number(s) cap it at {MESSAGES_PER_NUMBER_PER_S * len(numbers)}/s"
        )
    time.sleep(args.settle)
    outbox.read(expected)
    per_message = Counter(len(r) for r in outbox.replies.values())
    print(f"  replies per message after {args.settle:g} s more: {dict(sorted(per_message.items()))}")
    return problems + check_replies(outbox, expected, "replies run")


if __name__ == "__main__":
    main()
