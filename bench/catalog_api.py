"""Catalog API figures through the local gateway: product GET and list latency, feed import throughput.

Runs the project's whole stack (``template.yaml``) on the embedded AWS, makes one merchant, one shop
and a few hundred products, then times sequential keep-alive requests: single-product GETs, product
list pages, and CSV catalog imports (a queued 10,000-row feed, a 5,000-row feed applied in the
request and the same rows again, all unchanged, then a 2,000-row feed and the same again). After
each series it prints the load average, how busy the indexer beside the API was meanwhile, and the
CPU time the stack's process and the AWS emulator spent.
Prints figures; never asserts on time, but exits non-zero when an answer is wrong (a status or a count).
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _stack import INDEXER, BenchStack, running_stack  # noqa: E402
from _stats import summary  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
FEED_HEADER = "id,title,description,availability,condition,price,link,image_link,brand"
POLL_SECONDS = 0.2
SYNC_MAX_ROWS = 5_000  # chatshop.shops.imports: larger feeds are queued for the import worker


class Client:
    """One keep-alive connection to the gateway; JSON in and out."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=120)
        self.token: str | None = None
        self.function_ms: list[float] = []  # each API invocation's own time, as the runtime measured it

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload: bytes | None = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return response.status, data

    def expect(self, status: int, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        got, data = self.request(method, path, body, **kwargs)
        if got != status:
            fail(f"{method} {path}: expected {status}, got {got}: {str(data)[:2000]}")
        return data

    def close(self) -> None:
        self.connection.close()


def fail(message: str) -> None:
    raise SystemExit(f"FAILED: {message}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300, help="products created for GET and list")
    parser.add_argument("--gets", type=int, default=1000, help="timed product GETs")
    parser.add_argument("--lists", type=int, default=200, help="timed product list pages")
    parser.add_argument("--warmup", type=int, default=50, help="untimed requests before each series")
    parser.add_argument(
        "--queued-rows",
        type=int,
        default=10_000,
        help=f"rows of the queued feed (> {SYNC_MAX_ROWS}; 0 skips)",
    )
    parser.add_argument(
        "--sync-rows",
        type=int,
        default=5_000,
        help=f"rows of the in-request feed (<= {SYNC_MAX_ROWS}; 0 skips)",
    )
    parser.add_argument(
        "--second-sync-rows",
        type=int,
        default=2_000,
        help=f"rows of a second, smaller in-request feed (<= {SYNC_MAX_ROWS}; 0 skips)",
    )
    parser.add_argument(
        "--without-indexer",
        action="store_true",
        help="leave the indexer idle (its jobs wait on its queue), to tell its share; not the figure",
    )
    parser.add_argument("--import-timeout", type=float, default=330.0, help="seconds to wait for an import")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.queued_rows and args.queued_rows <= SYNC_MAX_ROWS:
        parser.error(f"--queued-rows must be over {SYNC_MAX_ROWS:,} (or 0) for the feed to be queued")
    if not (0 <= args.sync_rows <= SYNC_MAX_ROWS and 0 <= args.second_sync_rows <= SYNC_MAX_ROWS):
        parser.error(
            f"--sync-rows and --second-sync-rows must be from 0 to {SYNC_MAX_ROWS:,} "
            "for the feed to be applied in the request"
        )
    if min(args.products, args.gets, args.lists) < 1 or args.warmup < 0:
        parser.error("--products, --gets and --lists must be at least 1, --warmup at least 0")

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("chatshop.local.gateway").setLevel(logging.WARNING)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    rng = random.Random(args.seed)

    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())} before the stack starts")
    idle = frozenset({INDEXER}) if args.without_indexer else frozenset()
    if idle:
        print(f"without {', '.join(sorted(idle))}: for comparison only, the figures are the whole stack's")
    with running_stack(TEMPLATE, idle) as bench:
        print(f"stack started in {bench.started_in_s:.1f} s at {bench.url}")
        client = Client(bench.url)
        client.function_ms = bench.function_ms
        try:
            run(client, args, rng, Series(bench))
        finally:
            client.close()


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user and system, every thread) of this process or of ``pid``; None if unreadable."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Series:
    """Brackets a timed series: afterwards, the machine's load, how busy the indexer was meanwhile,
    and the CPU time the stack's process and the AWS emulator spent on it: on a busy machine the
    rows/s fall with the CPU left to the stack, its CPU seconds much less."""

    def __init__(self, bench: BenchStack) -> None:
        self.bench = bench
        self.started = 0.0
        self.cpu: tuple[float | None, float | None] = (None, None)

    def start(self, settled: bool = False) -> None:
        """``settled``: first wait for the background work of what came before (the indexer embedding
        the products just made), so the series is timed with nothing but itself beside it. The
        imports are not: each one's products are still being indexed while the next one runs."""
        if settled:
            print(f"  (waited {self.bench.settle():.1f} s for the index queue to empty)")
        self.started = time.monotonic()
        self.cpu = self._cpu()

    def report(self) -> None:
        ended = time.monotonic()
        load = " ".join(f"{value:.2f}" for value in os.getloadavg())
        print(f"  meanwhile           load average {load}; {self.bench.busy(self.started, ended)}")
        spent = [
            f"{name} {after - before:.1f} s"
            for name, before, after in zip(("stack", "emulator"), self.cpu, self._cpu(), strict=True)
            if before is not None and after is not None
        ]
        if spent:
            print(f"  CPU time            {', '.join(spent)}")

    def _cpu(self) -> tuple[float | None, float | None]:
        emulator = self.bench.stack.emulator
        return cpu_seconds(), cpu_seconds(emulator.pid) if emulator is not None else None


def run(client: Client, args: argparse.Namespace, rng: random.Random, series: Series) -> None:
    shop_id, product_ids = set_up(client, args.products)

    series.start(settled=True)
    get_ms = time_gets(client, shop_id, product_ids, args.gets, args.warmup, rng)
    print(f"GET product           {summary(get_ms)}")
    print(f"  inside the function {summary(client.function_ms[-args.gets :])}")
    series.report()
    series.start(settled=True)
    list_ms, empty_pages = time_lists(client, shop_id, args.lists, args.warmup)
    print(f"list products (100)   {summary(list_ms)}, empty last pages {empty_pages}")
    print(f"  inside the function {summary(client.function_ms[-args.lists :])}")
    series.report()

    if args.queued_rows:
        queued = feed(args.queued_rows, "q")
        series.start()
        seconds, record = time_import(client, shop_id, queued, 202, args.import_timeout)
        check_counts(record, "queued feed", created=args.queued_rows)
        report(f"import {args.queued_rows:,} rows (queued)", args.queued_rows, seconds)
        series.report()

    for rows in sorted({args.sync_rows, args.second_sync_rows} - {0}, reverse=True):
        synced = feed(rows, f"s{rows}")
        series.start()
        seconds, record = time_import(client, shop_id, synced, 201, args.import_timeout)
        check_counts(record, "feed applied in the request", created=rows)
        report(f"import {rows:,} rows (in request)", rows, seconds)
        series.report()

        series.start()
        seconds, record = time_import(client, shop_id, synced, 201, args.import_timeout)
        check_counts(record, "re-imported feed", unchanged=rows)
        report(f"re-import {rows:,} rows (unchanged)", rows, seconds)
        series.report()

    print("target: p99 < 20 ms for a GET, >= 1,000 rows/s import")


def set_up(client: Client, count: int) -> tuple[str, list[str]]:
    started = time.perf_counter()
    merchant = client.expect(201, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})
    client.token = merchant["api_key"]
    shop = client.expect(201, "POST", "/shops", {"name": "Bench shop", "country": "US", "currency": "USD"})
    shop_id = shop["id"]
    product_ids = []
    for i in range(count):
        product = client.expect(
            201,
            "POST",
            f"/shops/{shop_id}/products",
            {
                "retailer_id": f"p-{i:05d}",
                "title": f"Product {i}",
                "description": "A product made for the benchmark.",
                "price": {"amount": 1000 + i, "currency": "USD"},
                "link": f"https://example.com/p/p-{i:05d}",
                "image_link": f"https://example.com/p/p-{i:05d}.jpg",
                "brand": "Bench",
            },
        )
        product_ids.append(product["id"])
    elapsed = time.perf_counter() - started
    print(f"set up: 1 merchant, 1 shop, {count} products in {elapsed:.1f} s")
    return shop_id, product_ids


def time_gets(
    client: Client, shop_id: str, product_ids: list[str], requests: int, warmup: int, rng: random.Random
) -> list[float]:
    samples = []
    for i in range(warmup + requests):
        path = f"/shops/{shop_id}/products/{rng.choice(product_ids)}"
        started = time.perf_counter()
        status, data = client.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            fail(f"GET {path}: status {status}: {str(data)[:2000]}")
        if i >= warmup:
            samples.append(elapsed)
    return samples


def time_lists(client: Client, shop_id: str, requests: int, warmup: int) -> tuple[list[float], int]:
    samples, empty = [], 0
    cursor: str | None = None
    for i in range(warmup + requests):
        path = f"/shops/{shop_id}/products?limit=100"
        if cursor:
            path += f"&cursor={cursor}"
        started = time.perf_counter()
        status, data = client.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            fail(f"GET {path}: status {status}: {str(data)[:2000]}")
        if not data["items"] and (cursor is None or data.get("next_cursor")):
            # An empty page is only right after a full last page (DynamoDB's LastEvaluatedKey).
            fail(f"GET {path}: an empty page that is not the end of the list: {data}")
        cursor = data.get("next_cursor")  # after the last page, start again from the first
        if i >= warmup:
            samples.append(elapsed)
            empty += not data["items"]
    return samples, empty


def feed(rows: int, prefix: str) -> bytes:
    lines = [FEED_HEADER]
    for i in range(rows):
        retailer_id = f"{prefix}-{i:06d}"
        lines.append(
            f"{retailer_id},Feed product {i},A product of the benchmark feed,in stock,new,"
            f"{10 + i % 500}.{i % 100:02d} USD,https://example.com/p/{retailer_id},"
            f"https://example.com/p/{retailer_id},Bench"
        )
    return ("\n".join(lines) + "\n").encode()


def time_import(
    client: Client, shop_id: str, body: bytes, status: int, timeout: float
) -> tuple[float, dict[str, Any]]:
    path = f"/shops/{shop_id}/catalog/imports"
    started = time.perf_counter()
    record = client.expect(status, "POST", path, body, content_type="text/csv")
    deadline = started + timeout
    while record["status"] == "queued":
        if time.perf_counter() > deadline:
            fail(f"import {record['id']} still queued after {timeout:.0f} s: {record}")
        time.sleep(POLL_SECONDS)
        record = client.expect(200, "GET", f"{path}/{record['id']}")
    seconds = time.perf_counter() - started
    if record["status"] != "completed":
        fail(f"import {record['id']} ended {record['status']}: {str(record)[:2000]}")
    return seconds, record


def check_counts(record: dict[str, Any], what: str, created: int = 0, unchanged: int = 0) -> None:
    got = {key: record[key] for key in ("created", "updated", "unchanged")}
    expected = {"created": created, "updated": 0, "unchanged": unchanged}
    if got != expected or record["rejected"]:
        fail(f"{what}: expected {expected} and no rejections, got {got}, rejected {record['rejected'][:5]}")


def report(label: str, rows: int, seconds: float) -> None:
    print(f"{label:<34} {rows / seconds:8,.0f} rows/s  ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
