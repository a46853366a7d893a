"""Calls run on a few threads at once, each in a copy of the caller's context.

A thread pool's workers start in empty contexts, so what the caller's context holds (the log's
correlation id; locally, the function's environment and with it its credentials) would be lost on
them. Each call here runs in a copy taken in the caller's thread, one per call, since a context is
entered by one thread at a time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def map_in_context(call: Callable[[_In], _Out], items: Iterable[_In], workers: int) -> list[_Out]:
    """``call`` of each item, in order; on up to ``workers`` threads when there is more than one
    item. The first failure is raised."""
    items = list(items)
    if len(items) <= 1:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, call, item) for item in items]
        return [future.result() for future in futures]
