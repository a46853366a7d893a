"""Percentiles and a one-line summary for benchmark figures."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float], unit: str = "ms") -> str:
    return (
        f"p50 {percentile(samples, 0.50):.2f} {unit}, p99 {percentile(samples, 0.99):.2f} {unit}, "
        f"mean {statistics.fmean(samples):.2f} {unit}, n={len(samples)}"
    )
