"""The shop assistant's replies: how long a customer waits for one, and what one costs on AWS.

Runs the project's whole stack (``template.yaml``) on the embedded AWS with the Graph API emulator,
opens a shop with a catalog (the labelled advice catalog of ``tests/assistant_advice``), an FAQ and a
WhatsApp number, waits until search has indexed it, then

1. **cost**: for each kind of turn (a greeting, the browse tap, a category tap, an FAQ question, a
   product question), N new customers each take it once; every AWS request the functions' code makes
   is counted (a hook on botocore's API call, attributed to the function running it), with the
   Lambda invocations and their durations, the API Gateway requests (Meta's webhooks, the status
   webhooks that follow each reply included) and the SQS requests of the event source mappings
   (one receive and one delete per invocation, what low traffic gives); printed per reply, with the
   cost per 1,000 replies those counts imply at AWS list prices;
2. **latency**: the same kinds, each from a new customer, posted open-loop at a steady rate; each
   timed from its post to its reply's first sighting in the emulator's outbox (read every 20 ms);
   p50 and p99 per kind.

Prints figures; never asserts on time, but exits non-zero when a message gets no reply or two.

    .venv/bin/python bench/assistant.py --customers 20 --rate 2 --seconds 30
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import http.client
import json
import logging
import math
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _stack import BenchStack, running_stack  # noqa: E402
from _stats import percentile  # noqa: E402
from botocore.client import BaseClient  # noqa: E402

from chatshop.assistant.views import category_key  # noqa: E402
from chatshop_local.functions import running_function  # noqa: E402
from chatshop_local.invocations import API, Invocation  # noqa: E402
from chatshop_local.whatsapp_secrets import LOCAL_APP_SECRET  # noqa: E402
from tests.assistant_advice.labelled import HERE as ADVICE_SET  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "whatsapp" / "pywa__text.json"
NUMBER = "3344556677001"
FAQ = [
    ("Do you ship to Canada?", "Yes, to Canada in 5 to 8 business days."),
    ("What is your return policy?", "Returns are free within 30 days."),
    ("When are you open?", "Monday to Friday, 9:00 to 18:00."),
]
QUESTIONS = [
    "do you have a warm jacket under 100 dollars?",
    "any running shoes in size 42?",
    "something blue under $30",
    "do you have merino socks?",
    "a cheap lamp for my desk",
]

# AWS list prices (us-east-1), in dollars per unit.
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s_arm64": 0.0000133334,
    "api_gateway_rest_request": 3.50 / 1e6,
    "dynamodb_wru": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb_rru": 0.125 / 1e6,  # on-demand read request unit (strongly consistent read of 4 KB)
    "sqs_standard_request": 0.40 / 1e6,
    "sqs_fifo_request": 0.50 / 1e6,
    "s3_put_request": 0.005 / 1e3,
    "s3_get_request": 0.0004 / 1e3,
}
_S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload"}


# --- counting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    function: str
    service: str
    operation: str
    units: float  # DynamoDB capacity units, or requests
    price_key: str


class Counted:
    """AWS requests made by function code, with what each costs on AWS."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        original = BaseClient._make_api_call

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = running_function()
            if function is not None:
                service = client.meta.service_model.service_name
                units, price_key = cost_of(service, operation, params)
                with self._lock:
                    self.calls.append(Call(function, service, operation, units, price_key))
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]

    def since(self, start: int) -> list[Call]:
        with self._lock:
            return self.calls[start:]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)


def item_kb(item: dict[str, Any]) -> float:
    """DynamoDB's size of an item: its attribute names and values, in KB."""
    return len(json.dumps(item, separators=(",", ":")).encode()) / 1024


def cost_of(service: str, operation: str, params: dict[str, Any]) -> tuple[float, str]:
    if service == "dynamodb":
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            units = max(1, math.ceil(item_kb(params.get("Item") or params.get("Key") or {})))
            # A state with the Inbox index's keys is written to the index too.
            if "inbox_pk" in (params.get("Item") or {}):
                units *= 2
            return units, "dynamodb_wru"
        if operation == "BatchWriteItem":
            return sum(len(v) for v in params.get("RequestItems", {}).values()), "dynamodb_wru"
        if operation == "BatchGetItem":
            return sum(
                len(v.get("Keys", [])) for v in params.get("RequestItems", {}).values()
            ), "dynamodb_rru"
        if operation == "TransactWriteItems":
            return 2 * len(params.get("TransactItems", [])), "dynamodb_wru"
        return 1, "dynamodb_rru"
    if service == "sqs":
        fifo = str(params.get("QueueUrl", "")).endswith(".fifo")
        return 1, "sqs_fifo_request" if fifo else "sqs_standard_request"
    if service == "s3":
        return 1, "s3_put_request" if operation in _S3_PUT_CLASS else "s3_get_request"
    return 1, f"{service}_request"


class Invocations:
    def __init__(self, bench: BenchStack) -> None:
        self._bench = bench

    def since(self, start: int) -> list[Invocation]:
        with self._bench._lock:
            return [e.invocation for e in self._bench.ended[start:]]

    def mark(self) -> int:
        with self._bench._lock:
            return len(self._bench.ended)


# --- the customer's side ------------------------------------------------------------------------------


class Customers:
    """Signed webhooks from new customers, and their replies as the emulator's outbox shows them."""

    def __init__(self, url: str, graph: Any) -> None:
        self._template = json.loads(FIXTURE.read_bytes())
        self._host, self._port = url.removeprefix("http://").split(":")
        self._graph = graph
        self._count = 0
        self._lock = threading.Lock()
        self.seen: dict[str, float] = {}

    def new(self) -> str:
        with self._lock:
            self._count += 1
            return f"1666{self._count:07d}"

    def send(self, customer: str, kind: str, payload: dict[str, Any]) -> str:
        document = copy.deepcopy(self._template)
        value = document["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = NUMBER
        value["contacts"] = [{"profile": {"name": "Bench"}, "wa_id": customer}]
        message_id = f"wamid.assistant-bench-{customer}-{time.monotonic_ns()}"
        value["messages"] = [
            {"from": customer, "id": message_id, "timestamp": str(int(time.time())), "type": kind, **payload}
        ]
        body = json.dumps(document, ensure_ascii=False).encode()
        digest = hmac.new(LOCAL_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        connection = http.client.HTTPConnection(self._host, int(self._port), timeout=30)
        try:
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
            connection.request("POST", "/webhooks/whatsapp", body, headers)
            status = connection.getresponse().status
        finally:
            connection.close()
        if status != 200:
            raise SystemExit(f"FAILED: the webhook answered {status}")
        return message_id

    def replies(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in self._graph.outbox(phone_number_id=NUMBER):
            reply_to = ((entry.get("body") or {}).get("context") or {}).get("message_id")
            if reply_to:
                found[reply_to].append(entry)
        return found


def text(words: str) -> tuple[str, dict[str, Any]]:
    return "text", {"text": {"body": words}}


def tap(reply_id: str) -> tuple[str, dict[str, Any]]:
    return "interactive", {
        "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": "tap"}}
    }


def turn_kinds(category: str) -> dict[str, Callable[[int], tuple[str, dict[str, Any]]]]:
    return {
        "greeting": lambda i: text("Hi"),
        "browse tap": lambda i: tap("menu:browse"),
        "category tap": lambda i: tap(f"cat:{category_key(category)}"),
        "FAQ question": lambda i: text(FAQ[i % len(FAQ)][0]),
        "product question": lambda i: text(QUESTIONS[i % len(QUESTIONS)]),
    }


def wait_replies(customers: Customers, message_ids: list[str], timeout: float) -> dict[str, list[dict]]:
    deadline = time.monotonic() + timeout
    while True:
        replies = customers.replies()
        if all(m in replies for m in message_ids) or time.monotonic() > deadline:
            return replies
        time.sleep(0.05)


def quiet(bench: BenchStack, invocations: Invocations, quiet_s: float = 2.0, timeout: float = 120.0) -> None:
    """Until no function has run for ``quiet_s``: the status webhooks after each reply done too."""
    deadline = time.monotonic() + timeout
    last = invocations.mark()
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = invocations.mark()
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= quiet_s:
            return


# --- 1. what a reply costs ------------------------------------------------------------------------------


def cost_phase(
    bench: BenchStack,
    customers: Customers,
    counted: Counted,
    invocations: Invocations,
    memory_mb: dict[str, int],
    kind: str,
    make: Callable[[int], tuple[str, dict[str, Any]]],
    n: int,
) -> list[str]:
    quiet(bench, invocations)
    calls_from, invocations_from = counted.mark(), invocations.mark()
    sent = [customers.send(customers.new(), *make(i)) for i in range(n)]
    replies = wait_replies(customers, sent, 180)
    quiet(bench, invocations)
    problems = [
        f"{kind}: {m} has {len(replies.get(m, []))} replies" for m in sent if len(replies.get(m, [])) != 1
    ]
    report_cost(kind, n, counted.since(calls_from), invocations.since(invocations_from), memory_mb)
    return problems


def report_cost(
    kind: str, n: int, calls: list[Call], ran: list[Invocation], memory_mb: dict[str, int]
) -> None:
    by_service: Counter[str] = Counter()
    dollars: Counter[str] = Counter()
    for call in calls:
        by_service[f"{call.service} {call.operation}"] += 1
        dollars[call.price_key] += call.units * PRICES.get(call.price_key, 0.0)
    api_requests = sum(1 for i in ran if i.trigger == API)
    esm = [i for i in ran if i.trigger.startswith("SQS ")]
    for invocation in esm:
        key = "sqs_fifo_request" if "InboundQueue" in invocation.trigger else "sqs_standard_request"
        dollars[key] += 2 * PRICES[key]  # the mapping's receive and delete
    gb_s = sum(i.duration_ms / 1000 * memory_mb.get(i.function, 512) / 1024 for i in ran)
    dollars["lambda"] = len(ran) * PRICES["lambda_request"] + gb_s * PRICES["lambda_gb_s_arm64"]
    dollars["api_gateway"] = api_requests * PRICES["api_gateway_rest_request"]
    functions = Counter(i.function for i in ran)
    print(f"\n{kind}: per reply (n={n})")
    print(f"  AWS requests by the functions' code: {len(calls) / n:.1f}")
    for name, count in sorted(by_service.items(), key=lambda item: -item[1]):
        print(f"    {name}: {count / n:.2f}")
    print(
        f"  SQS requests of event source mappings: {2 * len(esm) / n:.1f} (receive + delete per invocation)"
    )
    print(
        f"  API Gateway requests: {api_requests / n:.1f} (the message, and the status webhooks of the reply)"
    )
    print(
        f"  Lambda invocations: {len(ran) / n:.1f} "
        f"({', '.join(f'{f} {c / n:.1f}' for f, c in functions.most_common())}), {gb_s / n * 1000:.1f} GB-ms"
    )
    total = sum(dollars.values())
    parts = ", ".join(f"{key} ${value / n * 1000:.4f}" for key, value in sorted(dollars.items()) if value)
    print(f"  cost per 1,000 replies: ${total / n * 1000:.4f} ({parts})")


# --- 2. latency at a steady rate ------------------------------------------------------------------------


def latency_phase(
    customers: Customers,
    kinds: dict[str, Callable[[int], tuple[str, dict[str, Any]]]],
    rate: float,
    seconds: float,
) -> list[str]:
    names = list(kinds)
    posted: dict[str, tuple[str, float]] = {}
    seen: dict[str, float] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            now = time.perf_counter()
            for message_id in customers.replies():
                seen.setdefault(message_id, now)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    count = int(rate * seconds)
    start = time.perf_counter()
    lock = threading.Lock()

    def post(i: int) -> None:
        kind = names[i % len(names)]
        scheduled = start + i / rate
        time.sleep(max(0.0, scheduled - time.perf_counter()))
        message_id = customers.send(customers.new(), *kinds[kind](i))
        with lock:
            posted[message_id] = (kind, scheduled)

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.perf_counter() + 180
    while time.perf_counter() < deadline and not all(m in seen for m in posted):
        time.sleep(0.1)
    stop.set()
    watcher.join(2)
    print(f"\nlatency at {rate:g} messages/s for {seconds:g} s (text or tap posted -> reply in the outbox):")
    problems = []
    for kind in names:
        waits = [
            (seen[m] - scheduled) * 1000 for m, (k, scheduled) in posted.items() if k == kind and m in seen
        ]
        missing = sum(1 for m, (k, _) in posted.items() if k == kind and m not in seen)
        if missing:
            problems.append(f"latency {kind}: {missing} messages without a reply")
        if waits:
            print(
                f"  {kind}: p50 {percentile(waits, 0.50):.0f} ms, p99 {percentile(waits, 0.99):.0f} ms "
                f"(n={len(waits)})"
            )
    return problems


# --- set-up -------------------------------------------------------------------------------------------


def request(url: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status >= 300:
        raise SystemExit(f"FAILED: {method} {path} answered {response.status}: {data[:300]!r}")
    return json.loads(data) if data else None


def load_catalog() -> list[dict[str, Any]]:
    """The labelled advice set's products, as the products API takes them."""
    rows = json.loads((ADVICE_SET / "catalog.json").read_text(encoding="utf-8"))
    return [{k: v for k, v in row.items() if k not in ("id", "truth")} for row in rows]


def set_up(bench: BenchStack) -> str:
    """The shop, its catalog and FAQ and number; the name of its fullest category."""
    url = bench.url
    merchant = request(url, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})
    token = merchant["api_key"]
    shop = request(
        url, "POST", "/shops", {"name": "Bench Outfitters", "country": "US", "currency": "USD"}, token
    )
    catalog = load_catalog()
    for product in catalog:
        request(url, "POST", f"/shops/{shop['id']}/products", product, token)
    entries = [{"question": q, "answer": a} for q, a in FAQ]
    request(url, "PUT", f"/shops/{shop['id']}/faq", {"entries": entries}, token)
    request(
        url,
        "PUT",
        f"/shops/{shop['id']}/channels/whatsapp",
        {
            "phone_number_id": NUMBER,
            "waba_id": "102290129349999",
            "display_phone_number": "+1 555 999 0000",
            "access_token": "EAAG-assistant-bench-token-0123456789",
        },
        token,
    )
    bench.settle()
    categories = Counter(
        p.get("category") for p in catalog if p.get("availability", "in stock") == "in stock"
    )
    return categories.most_common(1)[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=int, default=20, help="customers per kind of turn in the cost run"
    )
    parser.add_argument("--rate", type=float, default=2.0, help="messages/s of the latency run")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of the latency run (0 skips)")
    args = parser.parse_args()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.basicConfig(level=logging.WARNING)
    counted = Counted()
    counted.install()
    with running_stack(TEMPLATE) as bench:
        for function in bench.stack.functions.values():
            function.environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        started = time.perf_counter()
        category = set_up(bench)
        took = time.perf_counter() - started
        print(f"stack started in {bench.started_in_s:.1f} s; shop set up and indexed in {took:.1f} s")
        assert bench.stack.graph is not None
        customers = Customers(bench.url, bench.stack.graph)
        invocations = Invocations(bench)
        memory_mb = {name: f.deployed.memory_mb for name, f in bench.stack.functions.items()}
        kinds = turn_kinds(category)
        # One of each first: the question worker loads its models, the caches fill.
        problems = []
        for kind, make in kinds.items():
            problems += cost_phase(
                bench, customers, counted, invocations, memory_mb, f"warm-up {kind}", make, 1
            )
        for kind, make in kinds.items():
            problems += cost_phase(
                bench, customers, counted, invocations, memory_mb, kind, make, args.customers
            )
        if args.seconds > 0:
            problems += latency_phase(customers, kinds, args.rate, args.seconds)
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
