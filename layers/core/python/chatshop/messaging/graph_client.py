"""Data access for Meta's Graph API: send a message as a shop's number (an HTTP call, no SDK)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

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


class MediaUnavailable(Exception):
    pass


# Meta serves media from its CDN; a URL anywhere else is not followed with a shop's token.
_META_MEDIA_HOSTS = ("lookaside.fbsbx.com",)
MAX_MEDIA_BYTES = 100 * 1024 * 1024


class GraphClient:
    def __init__(self, settings: Settings) -> None:
        self._base = settings.graph_api_url.rstrip("/")
        self._trusted_hosts = {*_META_MEDIA_HOSTS, urlsplit(self._base).hostname or ""}

    def download_media(self, media_id: str, token: str) -> tuple[bytes, str]:
        """A customer's media: its URL from the Graph API (valid 5 minutes), then the bytes."""
        metadata = self._get_json(f"{self._base}/{media_id}", token)
        url = metadata.get("url")
        if not isinstance(url, str) or urlsplit(url).hostname not in self._trusted_hosts:
            raise MediaUnavailable(f"no trusted download URL for media {media_id}")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                data = response.read(MAX_MEDIA_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise MediaUnavailable(f"media {media_id}: HTTP {error.code}") from None
        if len(data) > MAX_MEDIA_BYTES:
            raise MediaUnavailable(f"media {media_id} is over {MAX_MEDIA_BYTES} bytes")
        return data, str(metadata.get("mime_type") or "application/octet-stream")

    def _get_json(self, url: str, token: str) -> dict[str, Any]:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                return _json(response.read())
        except urllib.error.HTTPError as error:
            raise MediaUnavailable(f"{urlsplit(url).path}: HTTP {error.code}") from None

    def message_templates(self, waba_id: str, token: str, name: str) -> GraphAnswer:
        """The business account's templates of this name, each language with its ``status`` and
        ``category`` as WhatsApp Manager has them (``GET /{waba_id}/message_templates``)."""
        query = urlencode({"name": name, "fields": "name,language,status,category", "limit": "100"})
        request = urllib.request.Request(
            f"{self._base}/{waba_id}/message_templates?{query}",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                return GraphAnswer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return GraphAnswer(error.code, _json(error.read()))

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

    def subscribe_app(self, waba_id: str, token: str, callback_url: str, verify_token: str) -> GraphAnswer:
        """Subscribe the app to the business account's webhooks, sent to ``callback_url`` instead of the
        app's own URL (``POST /{waba_id}/subscribed_apps`` with ``override_callback_uri``; Meta
        verifies the URL with the GET handshake and ``verify_token`` before it answers)."""
        # The token as a parameter of the body, which Graph reads as it reads the header: a merchant's
        # token is sent as given, whatever its characters, and Meta is the one to judge it.
        params = {"override_callback_uri": callback_url, "verify_token": verify_token, "access_token": token}
        request = urllib.request.Request(
            f"{self._base}/{waba_id}/subscribed_apps",
            data=json.dumps(params).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        return self._answer(request)

    def _answer(self, request: urllib.request.Request) -> GraphAnswer:
        """Meta's answer, an error included; no answer at all (unreachable, timed out) is a 503."""
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
                return GraphAnswer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return GraphAnswer(error.code, _json(error.read()))
        except (urllib.error.URLError, TimeoutError, OSError):
            return GraphAnswer(503, {})

    def send_events(self, dataset_id: str, token: str, events: list[dict[str, Any]]) -> GraphAnswer:
        """Conversion events to a dataset (``POST /{dataset_id}/events``, the Conversions API)."""
        request = urllib.request.Request(
            f"{self._base}/{dataset_id}/events",
            data=json.dumps({"data": events}).encode(),
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
