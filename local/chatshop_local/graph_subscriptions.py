"""Where the Graph API emulator posts a webhook: the app's callback URL, or a WABA's override.

Meta's rule (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/override):
``POST /{waba_id}/subscribed_apps`` with ``override_callback_uri`` and ``verify_token`` sets an
alternate callback URL for the business account. Meta first verifies it with the same GET handshake
as the app's URL (``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``: the endpoint must
answer 200 with the challenge), and refuses the override with error 2200 otherwise. From then on the
account's webhooks of the fields listed below go to the override; every other field (template and
account updates, ``user_preferences``) still goes to the app's URL.
"""

from __future__ import annotations

import http.client
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from .graph_validation import GraphError

# The fields an override applies to, as Meta lists them; statuses and payments come as "messages".
OVERRIDE_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "calls",
        "consumer_profile",
        "messaging_handovers",
        "standby",
        "group_lifecycle_update",
        "group_participants_update",
        "group_settings_update",
        "group_status_update",
        "smb_message_echoes",
        "smb_app_state_sync",
        "history",
        "account_settings_update",
    }
)
MAX_CALLBACK_URI_CHARS = 200  # Meta: "Maximum 200 characters"
VERIFY_TIMEOUT_S = 5.0

# Builds what posts webhooks to a URL (the emulator's signed poster).
PosterFactory = Callable[[str], object]


def verification_failed(detail: str) -> GraphError:
    # Meta's words when the callback did not answer the handshake, with what it saw.
    return GraphError(
        400,
        2200,
        f"(#2200) Callback verification failed with the following errors: {detail}",
        error_type="OAuthException",
    )


def invalid_callback(reason: str) -> GraphError:
    return GraphError(400, 100, f"(#100) Param override_callback_uri {reason}")


@dataclass(frozen=True)
class Subscription:
    waba_id: str
    override_callback_uri: str | None


class WebhookSubscriptions:
    """The app's subscriptions to business accounts, each with its override, and the posters by URL."""

    def __init__(
        self, default_url: str | None, poster: PosterFactory, loopback_hosts: frozenset[str]
    ) -> None:
        self._default_url = default_url
        self._make_poster = poster
        self._loopback_hosts = loopback_hosts
        self._lock = threading.Lock()
        self._subscriptions: dict[str, Subscription] = {}
        self._posters: dict[str, object] = {}

    def subscribe(self, waba_id: str, override_callback_uri: str | None, verify_token: str | None) -> None:
        """Subscribe the app to the account; with an override, verified first (GraphError if not)."""
        if override_callback_uri is not None:
            if verify_token is None:
                raise GraphError(400, 100, "(#100) The parameter verify_token is required.")
            self._verify(override_callback_uri, verify_token)
        with self._lock:
            self._subscriptions[waba_id] = Subscription(waba_id, override_callback_uri)

    def subscription(self, waba_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(waba_id)

    def url_for(self, waba_id: str, field: str) -> str | None:
        """Where a webhook of ``field`` about the account goes: its override, else the app's URL."""
        with self._lock:
            found = self._subscriptions.get(waba_id)
        if found is not None and found.override_callback_uri and field in OVERRIDE_FIELDS:
            return found.override_callback_uri
        return self._default_url

    def poster_for(self, waba_id: str, field: str) -> object | None:
        url = self.url_for(waba_id, field)
        if url is None:
            return None
        with self._lock:
            poster = self._posters.get(url)
            if poster is None:
                poster = self._posters[url] = self._make_poster(url)
        return poster

    def _verify(self, url: str, verify_token: str) -> None:
        parts = urlsplit(url)
        if len(url) > MAX_CALLBACK_URI_CHARS:
            raise invalid_callback(f"must be at most {MAX_CALLBACK_URI_CHARS} characters")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid_callback("must be a valid URL")
        if parts.hostname not in self._loopback_hosts:
            # The emulator never reaches beyond this machine: such a URL cannot answer it.
            raise verification_failed(
                "curl_errno = 6; curl_error = Could not resolve host; HTTP Status Code = 0"
            )
        challenge = str(secrets.randbelow(10**9))
        query = urlencode(
            {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        )
        path = (parts.path or "/") + "?" + (f"{parts.query}&" if parts.query else "") + query
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=VERIFY_TIMEOUT_S)
        try:
            connection.request("GET", path, headers={"User-Agent": "facebookplatform/1.0"})
            response = connection.getresponse()
            body = response.read(1024).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            raise verification_failed(
                "curl_errno = 7; curl_error = Couldn't connect to server; HTTP Status Code = 0"
            ) from None
        finally:
            connection.close()
        if response.status != 200:
            raise verification_failed(
                f"HTTP Status Code = {response.status}; HTTP Message = {response.reason}"
            )
        if body.strip() != challenge:
            raise verification_failed("The URL couldn't be validated. Response does not match challenge")
