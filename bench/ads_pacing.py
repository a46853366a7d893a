"""A simulated day of one campaign's traffic: spend against budget, hour by hour, paced by the real
pacing code (``chatshop.ads.pacing``) beside an unpaced baseline, in the same run and on the same
requests.

The clock is simulated minute by minute over a UTC day. Each minute brings the requests the US
traffic curve gives it (``curve_for("US", day)``), scaled so that the campaign, served on every
request it could win, would spend ``--demand`` times its daily budget. A request the campaign is
let into is won with ``--win-rate`` and clicked with ``--ctr``; a click costs its price. The budget
is a hard stop in both runs (as the conditional charge is). The paced run asks ``next_probability``
for a new serve probability every five simulated minutes, from what it spent, exactly as the
refresh does; the baseline serves every request until the budget is gone.

Targets: 95-100 % of the budget spent, and no hour with more than twice its share of the traffic.

    .venv/bin/python bench/ads_pacing.py [--demand 3] [--budget 50000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta

from chatshop.ads.pacing import PacingState, curve_for, next_probability

DAY = "2026-12-02"


def simulate(budget_minor: int, demand: float, win_rate: float, ctr: float, price_minor: int, seed: int):
    curve = curve_for("US", DAY)
    budget = budget_minor * 1000  # milli-minor, as the counters keep it
    price = price_minor * 1000
    # Requests in the day such that serving all of them would spend `demand` budgets.
    per_request = win_rate * ctr * price
    requests_per_day = demand * budget / per_request
    start = datetime.fromisoformat(DAY).replace(tzinfo=UTC)
    rng_paced, rng_flat = random.Random(seed), random.Random(seed)
    spent = {"paced": 0, "flat": 0}
    hourly = {"paced": [0] * 24, "flat": [0] * 24}
    traffic = [0.0] * 24
    state = PacingState()
    carry = 0.0
    for minute in range(24 * 60):
        now = start + timedelta(minutes=minute)
        if minute % 5 == 0:
            state = next_probability(
                state, day_budget=budget, spent_today=spent["paced"], now=now, curve=curve
            )
        share = curve.share_between(now, now + timedelta(minutes=1))
        carry += requests_per_day * share
        arriving, carry = int(carry), carry - int(carry)
        traffic[now.hour] += arriving
        for _ in range(arriving):
            for run, rng, p in (("paced", rng_paced, state.p), ("flat", rng_flat, 1.0)):
                if spent[run] + price > budget:
                    continue  # the conditional charge refuses what would pass the budget
                if rng.random() < p and rng.random() < win_rate and rng.random() < ctr:
                    spent[run] += price
                    hourly[run][now.hour] += price
    return budget, spent, hourly, traffic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=50_000, help="daily budget, minor units (500.00)")
    parser.add_argument("--price", type=int, default=40, help="price of a click, minor units")
    parser.add_argument("--win-rate", type=float, default=0.5)
    parser.add_argument("--ctr", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--demand", type=float, nargs="*", default=[1.5, 3.0, 10.0])
    args = parser.parse_args()
    for demand in args.demand:
        budget, spent, hourly, traffic = simulate(
            args.budget, demand, args.win_rate, args.ctr, args.price, args.seed
        )
        total_traffic = sum(traffic)
        money = f"{args.budget / 100:.2f} a day, clicks at {args.price / 100:.2f}"
        print(f"\ndemand {demand:g}x the budget ({money})")
        print(f"{'hour UTC':>8} {'traffic %':>9} {'paced %':>8} {'unpaced %':>9}")
        worst = 0.0
        for hour in range(24):
            t = traffic[hour] / total_traffic
            paced = hourly["paced"][hour] / max(spent["paced"], 1)
            flat = hourly["flat"][hour] / max(spent["flat"], 1)
            worst = max(worst, paced / t if t else 0.0)
            print(f"{hour:>8} {100 * t:>9.1f} {100 * paced:>8.1f} {100 * flat:>9.1f}")
        flat_hours = sum(1 for h in hourly["flat"] if h)
        print(
            f"spent: paced {100 * spent['paced'] / budget:.1f} % of the budget, unpaced "
            f"{100 * spent['flat'] / budget:.1f} % (all of it within {flat_hours} hours); "
            f"paced, the busiest hour against its traffic share: {worst:.2f}x"
        )


if __name__ == "__main__":
    main()
