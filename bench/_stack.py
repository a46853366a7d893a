"""A local stack for a benchmark: started on free loopback ports, without demo data, then stopped.

It also records how long each function invocation behind the gateway took, so a benchmark can
tell the gateway's share of a round trip from the function's.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chatshop_local.emulator import free_port
from chatshop_local.stack import LocalStack, StackOptions


@dataclass
class BenchStack:
    stack: LocalStack
    started_in_s: float
    function_ms: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.stack.gateway is not None
        return self.stack.gateway.url


@contextlib.contextmanager
def running_stack(template: Path) -> Iterator[BenchStack]:
    with tempfile.TemporaryDirectory() as state_dir:
        stack = LocalStack(
            StackOptions(
                template_path=template,
                state_dir=Path(state_dir),
                api_port=free_port(),
                aws_port=free_port(),
                graph_port=free_port(),
                seed=False,
            )
        )
        started = time.perf_counter()
        stack.start()
        bench = BenchStack(stack, time.perf_counter() - started)
        assert stack.gateway is not None
        invoke = stack.gateway.invoke

        def timed_invoke(logical_id, event):
            result = invoke(logical_id, event)
            bench.function_ms.append(result.duration_ms)
            return result

        stack.gateway.invoke = timed_invoke
        try:
            yield bench
        finally:
            stack.stop(save=False)
