"""Ad spend under a burst of clicks: delivered spend against budget, through the real stack.

For each budget, a burst of distinct signed click tokens (three times what the budget can pay for)
is fetched from the event route by 16 client threads at once; the ad-events worker charges them from
the queue. Printed per budget: what was charged, against the budget (never over it, within one price
of it), how many clicks were counted unbilled, how long the queue took to drain, and how soon the
campaign was in the exhausted set the decisions read.

Beside it, in the same run and on the same table, the check-then-act baseline many ad servers use
(read what was spent, and add the price if it still fits) under the same concurrency, to show what
the conditional write prevents.

    .venv/bin/python bench/ads_events.py [--clicks-per-budget 3] [--threads 16]
"""

from __future__ import annotations

import argparse
import http.client
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import running_stack  # noqa: E402

from chatshop.ads.spend import Budget, SpendStore  # noqa: E402
from chatshop.ads.tokens import CLICK, EventKeys, sign_event  # noqa: E402
from chatshop.platform.config import load_settings  # noqa: E402
from chatshop_local import environ  # noqa: E402
from chatshop_local.ads_secrets import LOCAL_EVENT_KEYS  # noqa: E402

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
KEYS = EventKeys.parse(LOCAL_EVENT_KEYS)
PRICE_MILLI = 40_000  # a 40-cent click
BUDGETS_MINOR = (500, 2_000)  # $5 and $20 a day


def fetch(base_url: str, token: str) -> int:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"/ads/events/{token}")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def burst(workers: int, items: list, act) -> float:
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda part=items[i::workers]: [act(x) for x in part]) for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def counted(spend: SpendStore, campaign: str) -> int:
    now = datetime.now(UTC)
    return sum(row.clicks for row in spend.hourly_stats(campaign, now, now))


def conditional_run(url: str, spend: SpendStore, budget_minor: int, factor: int, workers: int) -> str:
    campaign = uuid.uuid4().hex
    budget = budget_minor * 1000
    spend.set_budget(campaign, Budget("daily", budget), datetime.now(UTC))
    clicks = factor * budget // PRICE_MILLI
    tokens = [
        sign_event(
            KEYS,
            kind=CLICK,
            decision_id=uuid.uuid4().hex,
            campaign_id=campaign,
            ad_id="ad-1",
            user_key=None,
            price_milli=PRICE_MILLI,
            now=datetime.now(UTC),
            region="us-east-1",
        )
        for _ in range(clicks)
    ]
    started = time.monotonic()
    sent_s = burst(workers, tokens, lambda token: fetch(url, token))
    exhausted_after = None
    while counted(spend, campaign) < clicks:
        if exhausted_after is None and campaign in spend.exhausted_campaigns(datetime.now(UTC)):
            exhausted_after = time.monotonic() - started
        time.sleep(0.05)
    drained_s = time.monotonic() - started
    while exhausted_after is None:
        if campaign in spend.exhausted_campaigns(datetime.now(UTC)):
            exhausted_after = time.monotonic() - started
        time.sleep(0.05)
    spent = spend.spent(campaign)
    rows = spend.hourly_stats(campaign, datetime.now(UTC), datetime.now(UTC))
    unbilled = sum(row.unbilled for row in rows)
    return (
        f"budget ${budget_minor / 100:.2f}: {clicks} clicks in {sent_s:.1f} s, drained in {drained_s:.1f} s "
        f"({clicks / drained_s:.0f} events/s); charged ${spent / 100_000:.2f} = {100 * spent / budget:.1f}% "
        f"of budget, over by ${max(spent - budget, 0) / 100_000:.2f}, left ${(budget - spent) / 100_000:.2f} "
        f"(< one ${PRICE_MILLI / 100_000:.2f} price: {budget - spent < PRICE_MILLI}); {unbilled} unbilled; "
        f"in the exhausted set {exhausted_after:.1f} s after the burst began"
    )


def check_then_act_run(spend: SpendStore, budget_minor: int, factor: int, workers: int) -> str:
    """The baseline: read the counter, then add the price if it still fits (a race between the two)."""
    client, table = spend.client, spend.table
    key = {"pk": {"S": f"BASELINE#{uuid.uuid4().hex}"}, "sk": {"S": "SPEND"}}
    budget = budget_minor * 1000
    clicks = factor * budget // PRICE_MILLI

    def charge(_: int) -> None:
        item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") or {}
        if int(item.get("spent", {}).get("N", "0")) + PRICE_MILLI <= budget:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD spent :p",
                ExpressionAttributeValues={":p": {"N": str(PRICE_MILLI)}},
            )

    burst(workers, list(range(clicks)), charge)
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    spent = int(item["spent"]["N"])
    return (
        f"budget ${budget_minor / 100:.2f}, check-then-act baseline: charged ${spent / 100_000:.2f} = "
        f"{100 * spent / budget:.1f}% of budget, over by ${max(spent - budget, 0) / 100_000:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clicks-per-budget", type=int, default=3, help="the burst, in budgets' worth of clicks"
    )
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    with (
        running_stack(TEMPLATE) as bench,
        environ.function_environ(dict(bench.stack.functions["AdsFunction"].environment)),
    ):
        spend = SpendStore(load_settings())
        print(f"Ad spend under a burst ({args.threads} client threads, 40-cent clicks, daily budgets)")
        for budget in BUDGETS_MINOR:
            print("  " + conditional_run(bench.url, spend, budget, args.clicks_per_budget, args.threads))
            print("  " + check_then_act_run(spend, budget, args.clicks_per_budget, args.threads))


if __name__ == "__main__":
    main()
