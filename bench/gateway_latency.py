"""The local gateway's added latency per request: HTTP round trip minus the function's own time.

Runs a stack of one trivial function on the embedded AWS, sends sequential keep-alive requests
through the gateway, and compares each round trip with the invocation time the runtime measured.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _stack import running_stack  # noqa: E402
from _stats import summary  # noqa: E402

TEMPLATE = Path(__file__).parent / "gateway_stack" / "template.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()

    with running_stack(TEMPLATE) as bench:
        round_trip_ms = run(bench.url, args.requests, args.warmup)

    function_ms = bench.function_ms[args.warmup :]
    added = [total - inside for total, inside in zip(round_trip_ms, function_ms, strict=True)]
    print(f"gateway round trip    {summary(round_trip_ms)}")
    print(f"function invocation   {summary(function_ms)}")
    print(f"gateway added latency {summary(added)}")


def run(url: str, requests: int, warmup: int) -> list[float]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    samples = []
    for i in range(warmup + requests):
        started = time.perf_counter()
        connection.request("GET", f"/echo/item{i}?q=1", headers={"Accept": "text/plain"})
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"unexpected status {response.status}")
        if i >= warmup:
            samples.append(elapsed)
    connection.close()
    return samples


if __name__ == "__main__":
    main()
