"""Concurrent calls run in the caller's context: locally, a function's environment (and so its AWS
credentials and endpoints) is context-local, and a worker thread must see it as the caller does. The
product store, the campaign store and the ad refresh read through it."""

from __future__ import annotations

import os
import threading

from chatshop.platform.concurrency import map_in_context
from chatshop_local.environ import function_environ

MARK = "CHATSHOP_TEST_FUNCTION_MARK"


def test_each_chunk_sees_the_callers_function_environment() -> None:
    threads: set[int] = set()

    def seen(chunk: int) -> tuple[int, str | None]:
        threads.add(threading.get_ident())
        return chunk, os.environ.get(MARK)

    with function_environ({MARK: "search-function"}):
        found = map_in_context(seen, range(12), workers=4)
    assert found == [(chunk, "search-function") for chunk in range(12)]
    assert threading.get_ident() not in threads  # they did run on the pool's threads
    assert MARK not in os.environ  # and the caller's block left nothing behind


def test_a_failure_in_one_chunk_is_raised_to_the_caller() -> None:
    def fails_on_three(chunk: int) -> int:
        if chunk == 3:
            raise ValueError("chunk 3")
        return chunk

    try:
        map_in_context(fails_on_three, range(6), workers=4)
    except ValueError as error:
        assert str(error) == "chunk 3"
    else:
        raise AssertionError("the chunk's failure was swallowed")
