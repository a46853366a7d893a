"""Orders under contention: orders placed per second on a few hot products, and what one costs.

Runs the project's whole stack (``template.yaml``) on the embedded AWS, opens a shop with a small
catalog and a few hot products, then places orders from many threads at once, as many inbound
workers would, through ``chatshop.orders.checkout`` with the inbound function's own environment:

1. *hot products*: every order takes one or two units of one of ``--hot`` products with plenty of
   stock, so each transaction's condition holds and the orders contend only for the same items;
2. *the last units*: ``--customers`` customers at once for the last ``--units`` units of one product:
   exactly that many orders must be placed, the rest told it is gone, and the stock never below 0.

Every AWS request the placing makes is counted (a hook on botocore's API call, in this process), per
order and by operation. Prints figures; never asserts on time, but exits non-zero when the counts
do not add up (an oversold product, a lost unit, an order placed twice).

The embedded AWS copies every table a transaction touches for each of its items (moto's rollback),
so the local figure falls as the catalog grows; on DynamoDB a transaction's cost does not depend on
the table's size. The request counts are the same on both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _stack import running_stack  # noqa: E402
from _stats import summary  # noqa: E402
from botocore.client import BaseClient  # noqa: E402

from chatshop_local import environ  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
PLENTY = 1_000_000


class Counted:
    """AWS requests made while ``counting`` is set on the calling thread."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.local = threading.local()

    def install(self) -> None:
        original = BaseClient._make_api_call

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if getattr(self.local, "counting", False):
                with self._lock:
                    self.calls[f"{client.meta.service_model.service_name}.{operation}"] += 1
            return original(client, operation, params)

        BaseClient._make_api_call = counted  # type: ignore[method-assign]


def call(base: str, method: str, path: str, body: Any, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=400, help="orders in the hot-product series")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hot", type=int, default=3, help="hot products the orders share")
    parser.add_argument("--catalog", type=int, default=100, help="other products of the shop")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--units", type=int, default=10)
    args = parser.parse_args()
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    counted = Counted()
    counted.install()
    with running_stack(TEMPLATE) as bench:
        stack = bench.stack
        for function in stack.functions.values():
            function.environment["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        base = bench.url
        key = call(base, "POST", "/merchants", {"name": "Bench", "email": "bench@example.com"})["api_key"]
        shop_id = call(base, "POST", "/shops", {"name": "Hot", "country": "US", "currency": "USD"}, key)["id"]
        price = {"amount": 1000, "currency": "USD"}
        for n in range(args.catalog):
            call(
                base,
                "POST",
                f"/shops/{shop_id}/products",
                {"retailer_id": f"C{n}", "title": f"C{n}", "price": price},
                key,
            )
        hot = [f"HOT{n}" for n in range(args.hot)]
        for retailer_id in hot:
            product = {"retailer_id": retailer_id, "title": retailer_id, "price": price, "inventory": PLENTY}
            call(base, "POST", f"/shops/{shop_id}/products", product, key)
        call(
            base,
            "POST",
            f"/shops/{shop_id}/products",
            {"retailer_id": "LAST", "title": "Last", "price": price, "inventory": args.units},
            key,
        )

        with environ.function_environ(dict(stack.functions["InboundFunction"].environment)):
            from chatshop.orders.checkout import Buyer, CartLine, Checkout
            from chatshop.platform.config import load_settings
            from chatshop.shops.shop_store import ShopStore

            settings = load_settings()
            checkout = Checkout.from_settings(settings)
            shop = ShopStore(settings).get(shop_id)
            env = dict(stack.functions["InboundFunction"].environment)

            def place(n: int, lines: list[CartLine], prefix: str) -> tuple[float, Any]:
                with environ.function_environ(env):
                    counted.local.counting = True
                    started = time.perf_counter()
                    buyer = Buyer(wa_id=f"1555{n:07d}", phone_number_id="100200300")
                    placed = checkout.place_order(
                        shop, lines, key=f"{prefix}-{n}", buyer=buyer, now=datetime.now(UTC)
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    counted.local.counting = False
                    return elapsed, placed

            def hot_order(n: int) -> tuple[float, Any]:
                lines = [CartLine(hot[n % len(hot)], 1 + n % 2)]
                if n % 3 == 0:
                    lines.append(CartLine(hot[(n + 1) % len(hot)], 1))
                return place(n, lines, "hot")

            # 1. hot products
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.threads) as pool:
                results = list(pool.map(hot_order, range(args.orders)))
            seconds = time.perf_counter() - started
            placed = [p for _, p in results if p.order is not None and p.created]
            calls = sum(counted.calls.values())
            print(
                f"Hot products: {args.orders} orders on {args.hot} products, {args.threads} threads, "
                f"catalog of {args.catalog + args.hot + 1}"
            )
            print(f"  placed {len(placed)} in {seconds:.2f}s: {len(placed) / seconds:.1f} orders/s")
            print(f"  latency per order: {summary([ms for ms, _ in results])}")
            print(f"  AWS requests per order: {calls / args.orders:.2f}")
            for name, count in counted.calls.most_common():
                print(f"    {name}: {count / args.orders:.2f}")
            taken = Counter()
            for p in placed:
                for line in p.order.lines:
                    taken[line.retailer_id] += line.quantity
            from chatshop.shops.catalog import product_id_for
            from chatshop.shops.product_store import ProductStore

            products = ProductStore(settings).get_many(
                shop_id, [product_id_for(shop_id, r) for r in [*hot, "LAST"]]
            )
            left = {stored.product.retailer_id: stored.product.inventory for stored in products.values()}
            wrong = [r for r in hot if left[r] != PLENTY - taken[r]]
            if len(placed) != args.orders or wrong:
                print(f"FAILED: {len(placed)} placed of {args.orders}; stock that does not add up: {wrong}")
                return 1

            # 2. the last units
            counted.calls.clear()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=min(args.customers, 16)) as pool:
                last = list(
                    pool.map(lambda n: place(n, [CartLine("LAST", 1)], "last"), range(args.customers))
                )
            seconds = time.perf_counter() - started
            won = [p for _, p in last if p.order is not None]
            told = [
                p
                for _, p in last
                if p.order is None and p.problems and p.problems[0].reason == "out_of_stock"
            ]
            remaining = ProductStore(settings).get(shop_id, product_id_for(shop_id, "LAST")).product.inventory
            print(f"The last units: {args.customers} customers at once for {args.units} units")
            print(f"  {len(won)} orders, {len(told)} told it is gone, {remaining} left, in {seconds:.2f}s")
            print(f"  AWS requests per attempt: {sum(counted.calls.values()) / args.customers:.2f}")
            if len(won) != args.units or len(told) != args.customers - args.units or remaining != 0:
                print("FAILED: the last units were not shared out exactly")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
