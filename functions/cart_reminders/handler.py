"""Cart reminders (schedule, every 15 minutes): carts left unordered for their shop's
cart_reminder_hours are handed to the inbound queue, where the conversation's worker sends the one
reminder if the customer window is still open; see ``chatshop.assistant.reminders``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from chatshop.assistant.queues import InboundReturn
from chatshop.assistant.reminders import queue_due
from chatshop.assistant.state_store import ReminderIndex
from chatshop.platform.config import load_settings
from chatshop.platform.observability import get_logger

settings = load_settings()
logger = get_logger()


@cache
def index() -> ReminderIndex:
    return ReminderIndex(settings)


@cache
def inbound() -> InboundReturn:
    return InboundReturn(settings)


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    queued = queue_due(index(), inbound(), datetime.now(UTC))
    logger.info("Cart reminders queued", extra={"queued": queued})
    return {"queued": queued}
