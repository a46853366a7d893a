"""The local clock: fires the template's ``Schedule`` and ``ScheduleV2`` events at their times.

Each firing is an asynchronous invocation: a failure is logged and the schedule carries on, as
EventBridge does once Lambda's own retries are spent. A firing missed while the process was busy or
asleep happens once, late, not once per missed period.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .functions import InvocationResult
from .loops import BackgroundLoop
from .schedules import Schedule, scheduled_event

log = logging.getLogger("chatshop.local.clock")

_MAX_SLEEP_S = 1.0


@dataclass(frozen=True)
class ScheduleMapping:
    function: str
    event_name: str
    rule_arn: str
    schedule: Schedule
    input: str | None


class LocalClock(BackgroundLoop):
    name = "clock"

    def __init__(
        self,
        mappings: list[ScheduleMapping],
        invoke: Callable[[str, dict], InvocationResult],
        region: str,
        account_id: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self._invoke = invoke
        self._region = region
        self._account_id = account_id
        self._now = now
        started = now()
        # Rate schedules count their periods from the moment the clock starts, as a new rule does.
        self._schedules = {m: m.schedule.anchored_at(started) for m in mappings}
        self._due: dict[ScheduleMapping, datetime | None] = {
            m: schedule.next_after(started) for m, schedule in self._schedules.items()
        }

    def next_due(self) -> datetime | None:
        pending = [due for due in self._due.values() if due is not None]
        return min(pending) if pending else None

    def tick(self, now: datetime) -> list[tuple[ScheduleMapping, InvocationResult]]:
        """Fire every schedule due by ``now``; what a real clock calls as time passes."""
        fired = []
        for mapping, due in list(self._due.items()):
            if due is None or due > now:
                continue
            self._due[mapping] = self._schedules[mapping].next_after(now)
            result = self._invoke(mapping.function, self.event_for(mapping, due))
            if not result.ok:
                log.warning("%s failed on schedule %s", mapping.function, mapping.event_name)
            fired.append((mapping, result))
        return fired

    def event_for(self, mapping: ScheduleMapping, fired_at: datetime) -> Any:
        if mapping.input is not None:
            return json.loads(mapping.input)
        return scheduled_event(mapping.rule_arn, self._region, self._account_id, fired_at, str(uuid.uuid4()))

    def step(self) -> None:
        now = self._now()
        self.tick(now)
        due = self.next_due()
        pause = _MAX_SLEEP_S if due is None else (due - self._now()).total_seconds()
        self.wait(min(_MAX_SLEEP_S, max(0.01, pause)))
