"""Pointing Meta at a connected number's home region: its business account's webhook override.

Meta posts every webhook to the app's one callback URL unless the WhatsApp Business Account has an
alternate one (``POST /{waba_id}/subscribed_apps`` with ``override_callback_uri`` and
``verify_token``; Meta verifies the URL with the GET handshake first). Connecting a number sets it to
this region's webhook URL, so the customers' messages of a shop reach the shop's home region
directly; the relay (``relay.py``) is left for what still reaches another region (fields Meta never
overrides, such as ``user_preferences``, and deliveries made before the override).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatshop.platform.errors import Unavailable, ValidationFailed
from chatshop.platform.observability import get_logger

from .graph_client import GraphAnswer, GraphClient

WEBHOOK_PATH = "/webhooks/whatsapp"

# Graph's error codes, as Meta documents them.
_TOKEN_ERRORS = frozenset({190, 102, 463, 467})  # invalid, expired or revoked access token
_PERMISSION_ERRORS = frozenset({10, 200})  # the token lacks whatsapp_business_management
_UNKNOWN_OBJECT = 100  # no such account, or the token may not see it (Graph cannot tell which)
_CALLBACK_NOT_VERIFIED = 2200
_THROTTLED = frozenset({4, 17, 32, 613, 80007, 130429})


def home_webhook_url(
    configured: str | None, headers: Mapping[str, str], context: Mapping[str, Any] | None
) -> str:
    """This region's WhatsApp webhook URL: the configured one, else this API's as the merchant called
    it (the stage path included on an execute-api host, where API Gateway puts it in the URL)."""
    if configured:
        return configured
    lowered = {name.lower(): value for name, value in headers.items()}
    host = lowered.get("host") or "localhost"
    proto = lowered.get("x-forwarded-proto") or "http"
    stage = (context or {}).get("stage")
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{proto}://{host}{prefix}{WEBHOOK_PATH}"


class WebhookOverride:
    """Tells Meta to post a business account's webhooks to this region's URL."""

    def __init__(self, graph: GraphClient, callback_url: str, verify_token: str) -> None:
        self._graph = graph
        self.callback_url = callback_url
        self._verify_token = verify_token

    def point_home(self, waba_id: str, token: str) -> None:
        """Set the override; Meta's refusal becomes the client's error (422 naming the field it is
        about) or a retry-later one. Nothing of the connection is written before this succeeds."""
        answer = self._graph.subscribe_app(waba_id, token, self.callback_url, self._verify_token)
        if answer.ok and answer.body.get("success") is not False:
            return
        raise _refusal(waba_id, answer)


def _refusal(waba_id: str, answer: GraphAnswer) -> Exception:
    code = answer.error_code
    # The code and status say what went wrong; the token and the URL's verify token never reach a log.
    get_logger().warning(
        "Meta refused the webhook override", extra={"status": answer.status, "graph_code": code}
    )
    if code in _TOKEN_ERRORS or answer.status == 401:
        return ValidationFailed(["access_token"], "WhatsApp refused this access token (invalid or expired).")
    if code in _PERMISSION_ERRORS:
        return ValidationFailed(
            ["access_token"],
            "This access token may not manage the business account's webhooks "
            "(it needs the whatsapp_business_management permission).",
        )
    if code == _CALLBACK_NOT_VERIFIED:
        return Unavailable(
            "WhatsApp could not verify this region's webhook URL, so the number was not connected; "
            "try again shortly."
        )
    if code in _THROTTLED or answer.status == 429:
        return Unavailable("WhatsApp is limiting requests for this business account; try again later.")
    if code == _UNKNOWN_OBJECT and 400 <= answer.status < 500:
        return ValidationFailed(
            ["waba_id", "access_token"],
            f"WhatsApp has no business account {waba_id} that this access token may manage.",
        )
    return Unavailable("WhatsApp could not be reached, so the number was not connected; try again shortly.")
