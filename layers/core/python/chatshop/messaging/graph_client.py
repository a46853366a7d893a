"""Data access for Meta's Graph API: send a message as a shop's number (an HTTP call, no SDK)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from chatshop.platform.config import Settings

_TIMEOUT_S = 10


@dataclass(frozen=True)
class GraphAnswer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message_id(self) -> str | None:
        messages = self.body.get("messages") or [{}]
        return messages[0].get("id")

    @property
    def error_code(self) -> int | None:
        code = (self.body.get("error") or {}).get("code")
        return int(code) if isinstance(code, int | str) and str(code).isdigit() else None

    @property
    def error_message(self) -> str:
        error = self.body.get("error") or {}
        details = (error.get("error_data") or {}).get("details")
        return str(details or error.get("message") or f"HTTP {self.status}")


class GraphClient:
    def __init__(self, settings: Settings) -> None:
        self._base = settings.graph_api_url.rstrip("/")

    def send_message(self, phone_number_id: str, token: str, body: dict[str, Any]) -> GraphAnswer:
        request = urllib.request.Request(
            f"{self._base}/{phone_number_id}/messages",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                return GraphAnswer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return GraphAnswer(error.code, _json(error.read()))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
