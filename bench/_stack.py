"""A local stack for a benchmark: started on free loopback ports, without demo data, then stopped.

It also records every invocation the runtime reports (its function, trigger, duration and batch
size), so a benchmark can tell the gateway's share of a round trip from the function's, and say how
busy the background functions (the search indexer beside the API) were while a series was timed.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chatshop_local.emulator import free_port
from chatshop_local.invocations import API, Invocation
from chatshop_local.region_stacks import start_regions
from chatshop_local.stack import LocalStack, StackOptions

# What runs beside the catalog API when products change: the stream's consumer and the indexer.
BACKGROUND_FUNCTIONS = ("ProductChangesFunction", "IndexerFunction")
INDEXER = "IndexerFunction"


@dataclass(frozen=True)
class Ended:
    """One invocation, placed in time (monotonic seconds) from the end and duration it was reported with."""

    invocation: Invocation
    started: float
    ended: float


@dataclass
class BenchStack:
    stack: LocalStack
    started_in_s: float = 0.0
    function_ms: list[float] = field(default_factory=list)  # each API invocation's own time
    ended: list[Ended] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.stack.gateway is not None
        return self.stack.gateway.url

    def record(self, invocation: Invocation) -> None:
        now = time.monotonic()
        with self._lock:
            self.ended.append(Ended(invocation, now - invocation.duration_ms / 1000, now))
            if invocation.trigger == API:
                self.function_ms.append(invocation.duration_ms)

    def busy(self, started: float, ended: float, functions: tuple[str, ...] = BACKGROUND_FUNCTIONS) -> str:
        """How busy each of ``functions`` was between two monotonic times: the share of that wall time
        its invocations were running (over 100% when sandboxes ran at once), their count and records."""
        with self._lock:
            seen = list(self.ended)
        wall = max(ended - started, 1e-9)
        parts = []
        for function in functions:
            overlapping = [e for e in seen if e.invocation.function == function and e.ended > started]
            overlapping = [e for e in overlapping if e.started < ended]
            running = sum(min(e.ended, ended) - max(e.started, started) for e in overlapping)
            records = sum(e.invocation.records or 0 for e in overlapping)
            parts.append(
                f"{function} {running / wall:.0%} busy ({len(overlapping)} invocations, {records} records)"
            )
        return "; ".join(parts)

    def index_jobs_left(self) -> int:
        """Jobs on the index queue: waiting, or taken by the indexer and not yet done."""
        assert self.stack.stack is not None and self.stack.clients is not None
        url = self.stack.stack.physical_id("IndexQueue")
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        sqs = self.stack.clients.client("sqs")
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes[name]) for name in names)

    def settle(self, timeout_s: float = 600.0, quiet_s: float = 1.5) -> float:
        """Wait until what earlier requests set off in the background is done: the index queue empty
        for ``quiet_s`` (longer than the stream's poll and batching window, so changes still on the
        stream have been queued by then). The seconds it took; none with the indexer left idle."""
        if INDEXER in self.stack.options.idle:
            return 0.0
        started = time.monotonic()
        empty_since: float | None = None
        while time.monotonic() - started < timeout_s:
            now = time.monotonic()
            if self.index_jobs_left():
                empty_since = None
            elif empty_since is None:
                empty_since = now
            elif now - empty_since >= quiet_s:
                return now - started
            time.sleep(0.25)
        raise SystemExit(f"FAILED: the index queue was not empty within {timeout_s:.0f} s")


@contextlib.contextmanager
def running_stack(
    template: Path,
    idle: frozenset[str] = frozenset(),
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
) -> Iterator[BenchStack]:
    """The stack of ``template`` in ``region``; the functions in ``idle`` are not fed from their queues
    or streams."""
    with tempfile.TemporaryDirectory() as state_dir:
        bench: BenchStack | None = None

        def record(invocation: Invocation) -> None:
            if bench is not None:
                bench.record(invocation)

        stack = LocalStack(
            StackOptions(
                template_path=template,
                state_dir=Path(state_dir),
                region=region,
                api_port=free_port(),
                aws_port=free_port(),
                graph_port=free_port(),
                seed=False,
                idle=idle,
                on_invocation=record,
                parameters={"Stage": "local", **(parameters or {})},
            )
        )
        bench = BenchStack(stack)
        started = time.perf_counter()
        stack.start()
        bench.started_in_s = time.perf_counter() - started
        try:
            yield bench
        finally:
            stack.stop(save=False)


@contextlib.contextmanager
def running_regions(
    template: Path, regions: tuple[str, ...], app_region: str | None = None
) -> Iterator[dict[str, BenchStack]]:
    """A stack per region with one Meta between them (``chatshop_local.region_stacks``), each
    recording its invocations; the first region's URL is the Meta app's unless ``app_region``."""
    with tempfile.TemporaryDirectory() as state_root:
        benches: dict[str, BenchStack] = {}

        def observer(region: str):  # noqa: ANN202 - the runtime's Observer
            return lambda invocation: benches[region].record(invocation) if region in benches else None

        started = time.perf_counter()
        stacks = start_regions(template, Path(state_root), regions, app_region=app_region, observer=observer)
        for region, stack in stacks.stacks.items():
            benches[region] = BenchStack(stack, started_in_s=time.perf_counter() - started)
        try:
            yield benches
        finally:
            stacks.stop()
