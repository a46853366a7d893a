"""The Conversions API for business messaging in the Graph API emulator: ``POST /{dataset_id}/events``.

Checked as Meta documents it for click-to-WhatsApp conversions: a ``data`` array of 1 to 1,000
events, each with an accepted ``event_name``, an ``event_time`` in epoch seconds no more than 7 days
old and not in the future, ``action_source: business_messaging``, ``messaging_channel: whatsapp``,
``user_data`` with the ``whatsapp_business_account_id`` and the ad's ``ctwa_clid``, and for a
``Purchase`` a ``custom_data`` with an ISO 4217 ``currency`` and a ``value`` of at least 0.
Accepted events are kept in order for tests (:meth:`ConversionLog.events`); Meta answers
``{"events_received": n, "messages": [], "fbtrace_id": ...}``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from .graph_validation import GraphError

EVENT_NAMES = frozenset({"Purchase", "LeadSubmitted", "AddToCart", "InitiateCheckout", "ViewContent"})
MAX_EVENTS = 1000
MAX_AGE_S = 7 * 24 * 3600
_CURRENCY = re.compile(r"[A-Z]{3}")


def invalid(message: str) -> GraphError:
    return GraphError(400, 100, f"Invalid parameter: {message}", error_type="OAuthException", subcode=2804003)


def check_events(payload: Any, now: float) -> list[dict[str, Any]]:
    """The events of a request body, or the GraphError Meta would answer it with."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise GraphError(400, 100, "The parameter data is required")
    events = payload["data"]
    if not 1 <= len(events) <= MAX_EVENTS:
        raise invalid(f"data holds 1 to {MAX_EVENTS} events")
    for index, event in enumerate(events):
        _check_event(event, index, now)
    return events


def _check_event(event: Any, index: int, now: float) -> None:
    where = f"data[{index}]"
    if not isinstance(event, dict):
        raise invalid(f"{where} is not an object")
    if event.get("event_name") not in EVENT_NAMES:
        raise invalid(f"{where}.event_name must be one of {', '.join(sorted(EVENT_NAMES))}")
    event_time = event.get("event_time")
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        raise invalid(f"{where}.event_time must be a Unix timestamp in seconds")
    if event_time > now + 60:
        raise invalid(f"{where}.event_time is in the future")
    if event_time < now - MAX_AGE_S:
        raise invalid(f"{where}.event_time is more than 7 days ago")
    if event.get("action_source") != "business_messaging":
        raise invalid(f"{where}.action_source must be business_messaging")
    if event.get("messaging_channel") != "whatsapp":
        raise invalid(f"{where}.messaging_channel must be whatsapp")
    user_data = event.get("user_data")
    if not isinstance(user_data, dict):
        raise invalid(f"{where}.user_data is required")
    for field in ("whatsapp_business_account_id", "ctwa_clid"):
        if not isinstance(user_data.get(field), str) or not user_data[field]:
            raise invalid(f"{where}.user_data.{field} is required")
    if event["event_name"] == "Purchase":
        custom = event.get("custom_data")
        if not isinstance(custom, dict):
            raise invalid(f"{where}.custom_data with currency and value is required for Purchase")
        if not isinstance(custom.get("currency"), str) or not _CURRENCY.fullmatch(custom["currency"]):
            raise invalid(f"{where}.custom_data.currency must be an ISO 4217 code")
        value = custom.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise invalid(f"{where}.custom_data.value must be a number of at least 0")
    if "event_id" in event and not isinstance(event["event_id"], str):
        raise invalid(f"{where}.event_id must be a string")


class ConversionLog:
    """Accepted conversion events per dataset; an ``event_id`` seen before is deduplicated, as Meta does."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._seen: set[tuple[str, str, str]] = set()

    def accept(self, dataset_id: str, payload: Any) -> dict[str, Any]:
        events = check_events(payload, self._clock())
        with self._lock:
            for event in events:
                key = (dataset_id, event["event_name"], str(event.get("event_id", id(event))))
                if key in self._seen:
                    continue
                self._seen.add(key)
                self._events.append({"dataset_id": dataset_id, **event})
        return {"events_received": len(events), "messages": []}

    def events(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._events if dataset_id is None or e["dataset_id"] == dataset_id]
