"""A local emulator of Meta's WhatsApp Cloud (Graph) API on loopback, for ``chatshop dev`` and tests.

Meta's routes, with Meta's answers and error shapes (``graph_validation`` holds the rules and errors):

    POST   /{version}/{phone_number_id}/messages   send a message, or mark an inbound one read
    POST   /{version}/{phone_number_id}/media      upload media (multipart/form-data, as Meta takes it)
    GET    /{version}/{media_id}                   media metadata and a download URL valid 5 minutes
    DELETE /{version}/{media_id}                   delete media
    POST   /{version}/{dataset_id}/events      conversion events (``graph_conversions``)
    POST   /{version}/{waba_id}/subscribed_apps    subscribe the app to a business account, with an
                                                   ``override_callback_uri`` verified by Meta's GET
                                                   handshake (``graph_subscriptions``)
    GET    /{version}/{waba_id}/subscribed_apps    the app's subscription, with its override
    GET    /whatsapp_business/attachments/?mid=…   download (Bearer token; Meta's lookaside.fbsbx.com)

The emulator's own routes, for tests and people (no token):

    GET    /_emulator/health
    GET    /_emulator/outbox[?to=<wa_id>][&phone_number_id=…]   accepted messages, in order
    POST   /_emulator/faults    {"phone_number_id", "code", "count", "to"?, "via"?} or {"phone_number_id",
                                "pair_rate_limit": true|false}
    DELETE /_emulator/faults[?phone_number_id=…]
    POST   /_emulator/media     raw bytes, Content-Type = mime type, X-Phone-Number-Id -> {"id"}
    POST   /_emulator/inbound   {"phone_number_id", "from", "profile_name", "message"} -> the webhook posted
    POST   /_emulator/payments  {"phone_number_id", "reference_id", "status"?} the customer pays an
                                order_details bill (status captured, or failed): the payment status
                                webhook posted, as WhatsApp sends it in India and Brazil

After a message is accepted, signed status webhooks ``sent``, ``delivered`` and ``read`` (or ``failed``)
go to ``webhook_url`` (the app's callback URL), or to the override set for the number's business account,
from a background thread, in Meta's payload shape; a customer's message is posted with
:meth:`GraphEmulator.send_customer_message`. One emulator can be the Meta of several regions' stacks:
each adds where its numbers are connected (:meth:`GraphEmulator.add_number_source`).

    POST   /_emulator/templates {"waba_id", "name", "language", "category"?, "status"?} a template as
                                WhatsApp Manager holds it (MARKETING and APPROVED by default)
    POST   /_emulator/user_preferences {"phone_number_id", "wa_id", "value"?} the customer taps "Stop
                                promotions" (value stop) or takes it back (resume): Meta's webhook posted

Graph also answers ``GET /{version}/{waba_id}/message_templates[?name=…]`` from those templates.

Meta's rules for marketing templates (a template registered as MARKETING) hold as Meta applies them:
accepted, then a ``failed`` status webhook with 131049 for a US number (+1 outside Canada and the
Caribbean: paused by Meta since April 2025), and with 131050 for a customer who stopped promotions.
Meta's per-user marketing limit is dynamic and unpublished: a test injects it as fault 131049.

Meta's limits that stay observable: 80 messages/s per phone number (code 130429). Meta's pair rate limit
(one message every 6 s to the same user, code 131056) is off unless a test turns it on, since every
local conversation would hit it: ``POST /_emulator/faults {"phone_number_id": …, "pair_rate_limit": true}``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .graph_conversions import ConversionLog
from .graph_subscriptions import WebhookSubscriptions
from .graph_validation import (
    GraphError,
    ReadReceipt,
    SendRequest,
    body_too_large,
    invalid_token,
    marketing_limit_hit,
    marketing_stopped,
    message_undeliverable,
    new_fbtrace_id,
    pair_rate_limit_hit,
    parse_send_request,
    rate_limit_hit,
    re_engagement_message,
    required_parameter,
    something_went_wrong,
    unexpected_error,
    unknown_object,
    unknown_path,
)
from .loopback_http import LoopbackHttpServer, LoopbackServerError, RawRequest, RawResponse

log = logging.getLogger("chatshop.local.graph")

Clock = Callable[[], float]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024
THROUGHPUT_PER_SECOND = 80  # Meta's default Cloud API throughput per business phone number
PAIR_RATE_INTERVAL_S = 6.0  # Meta: about one message every 6 s to the same user
MEDIA_URL_TTL_S = 300.0  # Meta's media URLs expire after 5 minutes
CONVERSATION_TTL_S = 24 * 3600
DEFAULT_STATUS_DELAY_S = 0.05
# Meta retries a failed webhook for days, less and less often; locally a few quick tries say enough.
DEFAULT_WEBHOOK_RETRY_DELAYS_S: tuple[float, ...] = (0.1, 0.5, 2.0)
WEBHOOK_TIMEOUT_S = 5.0
DEFAULT_PROFILE_NAME = "Test Customer"
_VERSION = re.compile(r"v[0-9]+\.[0-9]+")
LOCAL_APP_ID = "670843887433847"  # the app subscribed_apps names: chatshop's Meta app, locally

# Errors a fault can inject; "500" is Graph's plain transient error, without WhatsApp error data.
FAULTS: dict[int, Callable[[], GraphError]] = {
    130429: rate_limit_hit,
    131056: pair_rate_limit_hit,
    131047: re_engagement_message,
    131049: marketing_limit_hit,
    131026: message_undeliverable,
    131000: something_went_wrong,
    500: unexpected_error,
}

_CALLING_CODE_COUNTRIES = {
    "1": "US",
    "7": "RU",
    "20": "EG",
    "27": "ZA",
    "33": "FR",
    "34": "ES",
    "39": "IT",
    "44": "GB",
    "49": "DE",
    "52": "MX",
    "55": "BR",
    "62": "ID",
    "91": "IN",
    "234": "NG",
    "972": "IL",
}


# Area codes of the North American plan (+1) outside the United States: Canada and the Caribbean.
_NON_US_AREA_CODES = (
    "204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 437 438 "
    "450 460 468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 "
    "780 782 807 819 825 867 873 879 902 905 942 242 246 264 268 284 345 441 473 649 658 664 721 "
    "758 767 784 809 829 849 868 869 876"
)
_NON_US_NANP = frozenset(_NON_US_AREA_CODES.split())


# Looks up a number the emulator has not been told about: (display phone number, access token, WABA id)
# or None; a WABA id of None gets the number an account of its own.
NumberSource = Callable[[str], tuple[str, str, str | None] | None]


class GraphEmulatorError(RuntimeError):
    pass


class WebhookDeliveryError(GraphEmulatorError):
    pass


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Number:
    phone_number_id: str
    display_phone_number: str
    access_token: str
    waba_id: str


@dataclass(frozen=True)
class _Media:
    id: str
    owner: str  # phone_number_id
    mime_type: str
    data: bytes

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.data).digest()


@dataclass(frozen=True)
class _MediaUrl:
    media_id: str
    expires_at: float


@dataclass
class _Fault:
    code: int
    remaining: int
    to: str | None  # only sends to this wa_id, or any
    via_webhook: bool  # accept the send, then report the error in a `failed` status webhook


@dataclass(frozen=True)
class _Template:
    waba_id: str
    name: str
    language: str
    category: str
    status: str

    def described(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": _stable_digits("template", self.waba_id, self.name, self.language, length=15),
        }


@dataclass(frozen=True)
class _Conversation:
    id: str
    expires_at: float
    category: str


@dataclass(frozen=True)
class _SentMessage:
    number: _Number
    wa_id: str
    conversation: _Conversation
    biz_opaque_callback_data: str | None
    outbox_entry: dict[str, Any]


@dataclass(frozen=True)
class _Bill:
    """An order_details message the customer can pay in the chat."""

    message_id: str
    number: _Number
    wa_id: str
    currency: str
    total: int
    payment_type: str


@dataclass
class _StatusChain:
    """The statuses still to report for one message, in order; retries keep the same body."""

    message_id: str
    statuses: list[str]
    error: GraphError | None = None
    pending_body: bytes | None = None
    attempt: int = 0


# ---------------------------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------------------------


class GraphEmulator:
    def __init__(
        self,
        host: str,
        port: int,
        webhook_url: str | None,
        app_secret: str,
        version: str = "v21.0",
        clock: Clock = time.time,
        *,
        status_delay_s: float = DEFAULT_STATUS_DELAY_S,
        webhook_retry_delays_s: Iterable[float] = DEFAULT_WEBHOOK_RETRY_DELAYS_S,
        number_source: NumberSource | None = None,
    ) -> None:
        _require_loopback(host, "host")
        if webhook_url is not None:
            _require_loopback(urlsplit(webhook_url).hostname or "", "webhook_url")
        self.version = version
        self._clock = clock
        # The app's callback URL, and each business account's override of it (subscribed_apps).
        self.subscriptions = WebhookSubscriptions(
            webhook_url, lambda url: _WebhookPoster(url, app_secret), LOOPBACK_HOSTS
        )
        self._status_delay_s = status_delay_s
        self._number_sources: list[NumberSource] = [number_source] if number_source else []
        self._retry_delays_s = tuple(webhook_retry_delays_s)
        self._lock = threading.RLock()
        self._numbers: dict[str, _Number] = {}
        # Business accounts registered as Meta holds them (register_number), whose tokens are known.
        self._told_accounts: set[str] = set()
        self._conversions = ConversionLog(clock)
        self._outbox: list[dict[str, Any]] = []
        self._sent: dict[str, _SentMessage] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._pair_rate_limited: set[str] = set()
        self._recent_sends: dict[str, deque[float]] = {}
        self._last_pair_send: dict[tuple[str, str], float] = {}
        self._conversations: dict[tuple[str, str], _Conversation] = {}
        self._profiles: dict[str, str] = {}
        self._media: dict[str, _Media] = {}
        self._media_urls: dict[str, _MediaUrl] = {}
        self._templates: dict[tuple[str, str, str], _Template] = {}
        # (WABA id, wa_id) of customers who tapped "Stop promotions".
        self._stopped_marketing: set[tuple[str, str]] = set()
        self._bills: dict[tuple[str, str], _Bill] = {}
        self._scheduler = _Scheduler("graph-webhooks")
        try:
            self._server = LoopbackHttpServer(
                "Graph API emulator",
                host,
                port,
                self._respond,
                self._too_large,
                MAX_REQUEST_BODY_BYTES,
                log,
                logging.DEBUG,
            )
        except LoopbackServerError as exc:
            raise GraphEmulatorError(str(exc)) from exc

    # -- lifecycle ------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._scheduler.start()
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
        self._scheduler.stop()

    def _respond(self, raw: RawRequest) -> RawResponse:
        request = HttpRequest(
            method=raw.method,
            path=raw.path,
            query=dict(parse_qsl(raw.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in raw.headers},
            body=raw.body,
        )
        return _raw(self.handle(request))

    def _too_large(self, length: int) -> RawResponse:
        return _raw(self.error_response(body_too_large(length, MAX_REQUEST_BODY_BYTES)))

    def __enter__(self) -> GraphEmulator:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what exists ----------------------------------------------------------------------------------------

    def register_number(
        self,
        phone_number_id: str,
        display_phone_number: str,
        access_token: str,
        waba_id: str | None = None,
    ) -> None:
        """A business phone number and the token that may send from it (tokens may be shared)."""
        number = _Number(
            phone_number_id=phone_number_id,
            display_phone_number=display_phone_number.lstrip("+"),
            access_token=access_token,
            waba_id=waba_id or _stable_digits("waba", phone_number_id, length=15),
        )
        with self._lock:
            self._numbers[phone_number_id] = number
            self._told_accounts.add(number.waba_id)

    def outbox(self, to: str | None = None, phone_number_id: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages, oldest first: id, phone_number_id, to, type, body, timestamp, status."""
        wa_id = to.lstrip("+") if to else None
        with self._lock:
            return [
                copy.deepcopy(entry)
                for entry in self._outbox
                if (wa_id is None or entry["to"] == wa_id)
                and (phone_number_id is None or entry["phone_number_id"] == phone_number_id)
            ]

    # -- templates and marketing preferences ----------------------------------------------------------------

    def register_template(
        self, waba_id: str, name: str, language: str, category: str = "MARKETING", status: str = "APPROVED"
    ) -> None:
        """A template of the business account as WhatsApp Manager holds it."""
        template = _Template(waba_id, name, language, category.upper(), status.upper())
        with self._lock:
            self._templates[(waba_id, name, language)] = template

    def _marketing(self, number: _Number, payload: Any) -> bool:
        """Whether a send is a marketing template: the number's account's own template, else (a number
        learned from chatshop, whose account id the emulator made up) any account's of that name."""
        template = payload.get("template") if isinstance(payload, dict) else None
        if not isinstance(template, dict):
            return False
        name, language = template.get("name"), (template.get("language") or {}).get("code")
        found = self._templates.get((number.waba_id, name, language)) or next(
            (t for t in self._templates.values() if (t.name, t.language) == (name, language)), None
        )
        return found is not None and found.category == "MARKETING"

    def send_user_preference(self, phone_number_id: str, wa_id: str, value: str = "stop") -> dict[str, Any]:
        """The customer taps "Stop promotions" (``stop``) or takes it back (``resume``) in WhatsApp:
        Meta's ``user_preferences`` webhook, signed; from then on Meta refuses them marketing templates."""
        if value not in ("stop", "resume"):
            raise ValueError("value must be stop or resume")
        self._learn_number(phone_number_id)
        with self._lock:
            number = self._number(phone_number_id)
            wa_id = wa_id.lstrip("+")
            if value == "stop":
                self._stopped_marketing.add((number.waba_id, wa_id))
            else:
                self._stopped_marketing.discard((number.waba_id, wa_id))
            detail = (
                "User requested to stop marketing messages"
                if value == "stop"
                else "User requested to resume marketing messages"
            )
            item = {
                "wa_id": wa_id,
                "detail": detail,
                "category": "marketing_messages",
                "value": value,
                "timestamp": int(self._clock()),
            }
            body = _webhook_envelope(number, self._contact(number, wa_id), "user_preferences", [item])
            body["entry"][0]["changes"][0]["field"] = "user_preferences"
            webhook = self.subscriptions.poster_for(number.waba_id, "user_preferences")
        if webhook is not None and not self._deliver_with_retries(webhook, _meta_json(body)):
            raise WebhookDeliveryError("the webhook refused the user_preferences update on every try")
        log.info("customer %s set marketing messages to %s", _mask(wa_id), value)
        return body

    def _marketing_refusal(self, number: _Number, wa_id: str) -> GraphError | None:
        """Meta accepts a marketing template it will not deliver, and says so in a failed status."""
        if _is_us_number(wa_id):
            return marketing_limit_hit()
        if (number.waba_id, wa_id) in self._stopped_marketing:
            return marketing_stopped()
        return None

    # -- faults ---------------------------------------------------------------------------------------------

    def add_fault(
        self, phone_number_id: str, code: int, count: int = 1, *, to: str | None = None, via: str = "response"
    ) -> None:
        """The next ``count`` sends from the number (to ``to`` only, if given) fail with ``code``.

        ``via="webhook"`` accepts the send and reports the error in a ``failed`` status webhook, as Meta
        does for errors it finds after accepting (131047, 131026, …).
        """
        if code not in FAULTS:
            raise ValueError(f"unknown fault code {code}; known: {sorted(FAULTS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if via not in ("response", "webhook") or (via == "webhook" and code == 500):
            raise ValueError("via must be 'response' or 'webhook' (and 500 only fails the response)")
        fault = _Fault(
            code=code, remaining=count, to=to.lstrip("+") if to else None, via_webhook=via == "webhook"
        )
        with self._lock:
            self._faults.setdefault(phone_number_id, []).append(fault)

    def set_pair_rate_limit(self, phone_number_id: str, enabled: bool = True) -> None:
        """Enforce Meta's pair rate limit (one message per 6 s to the same user) for the number."""
        with self._lock:
            if enabled:
                self._pair_rate_limited.add(phone_number_id)
            else:
                self._pair_rate_limited.discard(phone_number_id)

    def clear_faults(self, phone_number_id: str | None = None) -> None:
        with self._lock:
            if phone_number_id is None:
                self._faults.clear()
                self._pair_rate_limited.clear()
            else:
                self._faults.pop(phone_number_id, None)
                self._pair_rate_limited.discard(phone_number_id)

    # -- media ----------------------------------------------------------------------------------------------

    def store_media(self, phone_number_id: str, data: bytes, mime_type: str) -> str:
        """Keep a file as media of the number (a customer's photo, or an upload); returns its media id."""
        if not data:
            raise ValueError("media must not be empty")
        media = _Media(id=_new_media_id(), owner=phone_number_id, mime_type=mime_type, data=bytes(data))
        with self._lock:
            self._media[media.id] = media
        return media.id

    # -- customer messages ----------------------------------------------------------------------------------

    def send_customer_message(
        self, phone_number_id: str, from_wa_id: str, profile_name: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        """Post a customer's message to the webhook as Meta does, signed; returns the body posted.

        ``message`` is the type-specific part, e.g. :func:`text_message`'s; ``from``, ``id`` and
        ``timestamp`` are filled in, and an image by media id gets its ``mime_type`` and ``sha256``.
        Raises :class:`WebhookDeliveryError` when the webhook refused it on every try; without a
        ``webhook_url`` nothing is posted and the body is only returned.
        """
        self._learn_number(phone_number_id)
        with self._lock:
            number = self._number(phone_number_id)
            wa_id = from_wa_id.lstrip("+")
            self._profiles[wa_id] = profile_name
            inbound = self._inbound_message(number, wa_id, message)
            body = _webhook_envelope(number, self._contact(number, wa_id), "messages", [inbound])
            webhook = self.subscriptions.poster_for(number.waba_id, "messages")
        if webhook is not None and not self._deliver_with_retries(webhook, _meta_json(body)):
            raise WebhookDeliveryError(
                f"the webhook refused the customer message {_short_id(inbound['id'])} on every try"
            )
        log.info("customer %s sent a %s message to %s", _mask(wa_id), inbound.get("type"), phone_number_id)
        return body

    def pay(self, phone_number_id: str, reference_id: str, status: str = "captured") -> dict[str, Any]:
        """The customer pays (or fails to pay) the order_details bill ``reference_id`` in the chat:
        WhatsApp's payment status webhook is posted, signed, and returned. A bill can be paid again
        (a redelivery, or a retry after ``failed``); it is the receiver's to be idempotent."""
        if status not in ("captured", "failed", "pending"):
            raise ValueError("status must be captured, pending or failed")
        with self._lock:
            bill = self._bills.get((phone_number_id, reference_id))
            if bill is None:
                raise ValueError(
                    f"no order_details with reference_id {reference_id} was sent from {phone_number_id}"
                )
            now = str(int(self._clock()))
            transaction = {
                "id": f"pay_{secrets.token_hex(8)}",
                "type": "razorpay" if bill.payment_type == "upi" else "payment_link",
                "status": {"captured": "success", "failed": "failed", "pending": "pending"}[status],
                "created_timestamp": now,
                "updated_timestamp": now,
                "amount": {"value": bill.total, "offset": 100},
                "currency": bill.currency,
                "method": {"type": "upi" if bill.payment_type == "upi" else "card"},
            }
            item = {
                "id": bill.message_id,
                "type": "payment",
                "status": status,
                "timestamp": now,
                "recipient_id": bill.wa_id,
                "payment": {
                    "reference_id": reference_id,
                    "amount": {"value": bill.total, "offset": 100},
                    "currency": bill.currency,
                    "transaction": transaction,
                },
            }
            body = _webhook_envelope(bill.number, self._contact(bill.number, bill.wa_id), "statuses", [item])
            webhook = self.subscriptions.poster_for(bill.number.waba_id, "messages")
        if webhook is not None and not self._deliver_with_retries(webhook, _meta_json(body)):
            raise WebhookDeliveryError(
                f"the webhook refused the payment status of {reference_id} on every try"
            )
        log.info("customer %s paid %s: %s", _mask(bill.wa_id), reference_id, status)
        return body

    def _inbound_message(self, number: _Number, wa_id: str, message: dict[str, Any]) -> dict[str, Any]:
        content = copy.deepcopy(message)
        inbound: dict[str, Any] = {}
        context = content.pop("context", None)
        if context is not None:
            # Meta names the business number the customer replied to.
            inbound["context"] = {"from": number.display_phone_number, **context}
        inbound["from"] = wa_id
        inbound["id"] = _new_wamid(wa_id)
        inbound["timestamp"] = str(int(self._clock()))
        inbound.update(content)
        self._describe_media(inbound)
        return inbound

    def _describe_media(self, inbound: dict[str, Any]) -> None:
        media_ref = inbound.get(inbound.get("type", ""))
        if not isinstance(media_ref, dict) or "id" not in media_ref:
            return
        media = self._media.get(media_ref["id"])
        if media is not None:
            media_ref.setdefault("mime_type", media.mime_type)
            # Webhooks carry the hash in base64, where the media endpoint gives it in hex.
            media_ref.setdefault("sha256", base64.b64encode(media.sha256).decode())

    # -- HTTP entry point -----------------------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            return self._route(request)
        except GraphError as error:
            return self.error_response(error)
        except Exception:
            log.exception("the Graph API emulator failed on %s %s", request.method, request.path)
            return self.error_response(unexpected_error())

    def _route(self, request: HttpRequest) -> HttpResponse:
        segments = [segment for segment in request.path.split("/") if segment]
        if segments[:1] == ["_emulator"]:
            return self._route_control(request, segments[1:])
        if segments == ["whatsapp_business", "attachments"]:
            return self._download_media(request)
        if len(segments) in (2, 3) and segments[0] == self.version:
            return self._route_graph(request, segments[1:])
        if segments and _VERSION.fullmatch(segments[0]):
            raise GraphError(404, 2500, f"This emulator serves Graph API {self.version}, not {segments[0]}")
        raise unknown_path(request.path)

    def _route_graph(self, request: HttpRequest, segments: list[str]) -> HttpResponse:
        object_id, edge = segments[0], (segments[1] if len(segments) > 1 else None)
        route = (request.method, edge)
        if route == ("POST", "events"):
            return self._conversion_events(request, object_id)
        if route == ("POST", "messages"):
            return self._send(request, object_id)
        if route == ("POST", "media"):
            return self._upload_media(request, object_id)
        if route == ("GET", None):
            return self._media_metadata(request, object_id)
        if route == ("DELETE", None):
            return self._delete_media(request, object_id)
        if route == ("GET", "message_templates"):
            return self._message_templates(request, object_id)
        if route == ("POST", "subscribed_apps"):
            return self._subscribe_app(request, object_id)
        if route == ("GET", "subscribed_apps"):
            return self._subscribed_apps(request, object_id)
        if edge is not None and edge not in ("messages", "media", "message_templates", "subscribed_apps"):
            raise unknown_path(request.path)
        raise unknown_object(object_id, request.method)

    # -- the Conversions API (graph_conversions) --------------------------------------------------------

    def conversion_events(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        """The conversion events accepted so far, oldest first (each with its ``dataset_id``)."""
        return self._conversions.events(dataset_id)

    def _conversion_events(self, request: HttpRequest, dataset_id: str) -> HttpResponse:
        token = _access_token(request)
        if token is None or token not in self._known_tokens():
            raise invalid_token()
        try:
            payload = json.loads(request.body) if request.body else None
        except (ValueError, UnicodeDecodeError):
            payload = None
        answer = self._conversions.accept(dataset_id, payload)
        return _json_response(200, {**answer, "fbtrace_id": new_fbtrace_id()})

    def _route_control(self, request: HttpRequest, segments: list[str]) -> HttpResponse:
        route = (request.method, "/".join(segments))
        handlers: dict[tuple[str, str], Callable[[HttpRequest], HttpResponse]] = {
            ("GET", "health"): lambda _r: _json_response(200, {"status": "ok", "version": self.version}),
            ("GET", "outbox"): self._outbox_route,
            ("POST", "faults"): self._add_fault_route,
            ("DELETE", "faults"): self._clear_faults_route,
            ("POST", "media"): self._store_media_route,
            ("POST", "inbound"): self._inbound_route,
            ("POST", "templates"): self._templates_route,
            ("POST", "user_preferences"): self._user_preferences_route,
            ("POST", "payments"): self._payments_route,
        }
        handler = handlers.get(route)
        if handler is None:
            raise unknown_path(request.path)
        return handler(request)

    # -- sending --------------------------------------------------------------------------------------------

    def _send(self, request: HttpRequest, phone_number_id: str) -> HttpResponse:
        number = self._authorized_number(request, phone_number_id)
        try:
            payload = json.loads(request.body) if request.body else None
        except (ValueError, UnicodeDecodeError):
            payload = None  # Graph reads params, finds none, and asks for the first it needs
        parsed = parse_send_request(payload)
        if isinstance(parsed, ReadReceipt):
            return _json_response(200, {"success": True})
        with self._lock:
            webhook_error = self._admit(number, parsed)
            if webhook_error is None and self._marketing(number, payload):
                webhook_error = self._marketing_refusal(number, parsed.wa_id)
            message_id = self._record(number, parsed, payload)
        chain = _StatusChain(message_id, ["failed"] if webhook_error else ["sent", "delivered", "read"])
        chain.error = webhook_error
        self._scheduler.call_later(self._status_delay_s, lambda: self._report_status(chain))
        log.info("accepted a %s message to %s as %s", parsed.type, _mask(parsed.wa_id), _short_id(message_id))
        return _json_response(200, _accepted_body(parsed, message_id))

    def _authorized_number(self, request: HttpRequest, phone_number_id: str) -> _Number:
        token = _access_token(request)
        self._learn_number(phone_number_id)
        with self._lock:
            known_tokens = {number.access_token for number in self._numbers.values()}
            number = self._numbers.get(phone_number_id)
        if token is None or token not in known_tokens:
            raise invalid_token()
        # A valid token that may not see the number gets the same answer as a number that does not exist.
        if number is None or not _same_secret(number.access_token, token):
            raise unknown_object(phone_number_id, request.method)
        return number

    def _learn_number(self, phone_number_id: str) -> None:
        """Ask ``number_source`` about a number this emulator has not seen: on Meta, every number a
        shop connects exists with its token already; locally, what the shop connected is what exists."""
        with self._lock:
            if phone_number_id in self._numbers:
                return
            sources = list(self._number_sources)
        for source in sources:
            found = source(phone_number_id)
            if found is not None:
                display_phone_number, access_token, waba_id = found
                with self._lock:
                    told = set(self._told_accounts)
                self.register_number(phone_number_id, display_phone_number, access_token, waba_id)
                with self._lock:
                    # Learned from a shop's own connection, not told: unless the account was told of
                    # already, its tokens stay whatever shops connect it with.
                    self._told_accounts.intersection_update(told)
                return

    def add_number_source(self, source: NumberSource) -> None:
        """Another place numbers are connected (one more region's stack, when this emulator is the
        Meta of several)."""
        with self._lock:
            self._number_sources.append(source)

    def remove_number_source(self, source: NumberSource) -> None:
        with self._lock:
            if source in self._number_sources:
                self._number_sources.remove(source)

    def _admit(self, number: _Number, message: SendRequest) -> GraphError | None:
        """Raise the error Meta would answer with; return one to report later in a ``failed`` webhook."""
        now = self._clock()
        # Meta's own limits first, so a send they refuse does not use up an injected fault.
        self._check_throughput(number.phone_number_id, now)
        self._check_pair_rate(number.phone_number_id, message.wa_id, now)
        fault = self._take_fault(number.phone_number_id, message.wa_id)
        if fault is not None and not fault.via_webhook:
            raise FAULTS[fault.code]()
        self._recent_sends.setdefault(number.phone_number_id, deque()).append(now)
        self._last_pair_send[(number.phone_number_id, message.wa_id)] = now
        return FAULTS[fault.code]() if fault is not None else None

    def _take_fault(self, phone_number_id: str, wa_id: str) -> _Fault | None:
        faults = self._faults.get(phone_number_id, [])
        for fault in faults:
            if fault.to is None or fault.to == wa_id:
                fault.remaining -= 1
                if fault.remaining == 0:
                    faults.remove(fault)
                return fault
        return None

    def _check_throughput(self, phone_number_id: str, now: float) -> None:
        # A sliding one-second window over accepted sends; rejected ones do not use up throughput.
        sends = self._recent_sends.setdefault(phone_number_id, deque())
        while sends and sends[0] <= now - 1.0:
            sends.popleft()
        if len(sends) >= THROUGHPUT_PER_SECOND:
            raise rate_limit_hit()

    def _check_pair_rate(self, phone_number_id: str, wa_id: str, now: float) -> None:
        if phone_number_id not in self._pair_rate_limited:
            return
        last = self._last_pair_send.get((phone_number_id, wa_id))
        if last is not None and now - last < PAIR_RATE_INTERVAL_S:
            raise pair_rate_limit_hit()

    def _record(self, number: _Number, message: SendRequest, payload: dict[str, Any]) -> str:
        now = self._clock()
        message_id = _new_wamid(message.wa_id)
        entry = {
            "id": message_id,
            "phone_number_id": number.phone_number_id,
            "to": message.wa_id,
            "type": message.type,
            "body": copy.deepcopy(payload),
            "timestamp": int(now),
            "status": "accepted",
        }
        self._outbox.append(entry)
        interactive = payload.get("interactive") if message.type == "interactive" else None
        if isinstance(interactive, dict) and interactive.get("type") == "order_details":
            parameters = interactive["action"]["parameters"]
            self._bills[(number.phone_number_id, parameters["reference_id"])] = _Bill(
                message_id,
                number,
                message.wa_id,
                parameters["currency"],
                parameters["total_amount"]["value"],
                parameters["payment_type"],
            )
        self._sent[message_id] = _SentMessage(
            number=number,
            wa_id=message.wa_id,
            conversation=self._conversation(number, message, now),
            biz_opaque_callback_data=message.biz_opaque_callback_data,
            outbox_entry=entry,
        )
        return message_id

    def _conversation(self, number: _Number, message: SendRequest, now: float) -> _Conversation:
        # Meta's conversation-based pricing: one 24-hour conversation per user, opened by the first
        # message; a template opens a business-initiated one (reported as "utility" here).
        key = (number.phone_number_id, message.wa_id)
        conversation = self._conversations.get(key)
        if conversation is None or conversation.expires_at <= now:
            category = "utility" if message.type == "template" else "service"
            conversation = _Conversation(secrets.token_hex(16), now + CONVERSATION_TTL_S, category)
            self._conversations[key] = conversation
        return conversation

    # -- status webhooks ------------------------------------------------------------------------------------

    def _report_status(self, chain: _StatusChain) -> None:
        """Runs on the webhook thread: report the chain's next status, then schedule the one after."""
        if chain.pending_body is None:
            chain.pending_body = self._status_body(chain.message_id, chain.statuses[0], chain.error)
        with self._lock:
            waba_id = self._sent[chain.message_id].number.waba_id
        webhook = self.subscriptions.poster_for(waba_id, "messages")
        if webhook is not None and not webhook.post(chain.pending_body):
            if chain.attempt < len(self._retry_delays_s):
                delay = self._retry_delays_s[chain.attempt]
                chain.attempt += 1
                self._scheduler.call_later(delay, lambda: self._report_status(chain))
                return
            log.warning(
                "gave up on the %s status webhook of %s after %d tries",
                chain.statuses[0],
                _short_id(chain.message_id),
                chain.attempt + 1,
            )
        chain.statuses.pop(0)
        chain.pending_body, chain.attempt = None, 0
        if chain.statuses:
            self._scheduler.call_later(self._status_delay_s, lambda: self._report_status(chain))

    def _status_body(self, message_id: str, status: str, error: GraphError | None) -> bytes:
        with self._lock:
            sent = self._sent[message_id]
            sent.outbox_entry["status"] = status
            item: dict[str, Any] = {
                "id": message_id,
                "status": status,
                "timestamp": str(int(self._clock())),
                "recipient_id": sent.wa_id,
            }
            if sent.biz_opaque_callback_data is not None:
                item["biz_opaque_callback_data"] = sent.biz_opaque_callback_data
            if status in ("sent", "delivered"):
                item.update(_conversation_and_pricing(sent.conversation, with_expiry=status == "sent"))
            if error is not None:
                item["errors"] = [error.webhook_error()]
            contact = self._contact(sent.number, sent.wa_id)
            return _meta_json(_webhook_envelope(sent.number, contact, "statuses", [item]))

    def _deliver_with_retries(self, webhook: Any, body: bytes) -> bool:
        for delay in (*self._retry_delays_s, None):
            if webhook.post(body):
                return True
            if delay is not None:
                time.sleep(delay)
        return False

    def _contact(self, number: _Number, wa_id: str) -> dict[str, Any]:
        return {
            "profile": {"name": self._profiles.get(wa_id, DEFAULT_PROFILE_NAME)},
            "wa_id": wa_id,
            "user_id": _bsuid(wa_id, scope=number.waba_id),
            "parent_user_id": _bsuid(wa_id, scope="parent", parent=True),
        }

    # -- media routes ---------------------------------------------------------------------------------------

    def _upload_media(self, request: HttpRequest, phone_number_id: str) -> HttpResponse:
        self._authorized_number(request, phone_number_id)
        fields = _multipart_fields(request.headers.get("content-type", ""), request.body)
        product = fields.get("messaging_product")
        if product is None or product[1].decode(errors="replace") != "whatsapp":
            raise required_parameter("messaging_product")
        file = fields.get("file")
        if file is None or not file[1]:
            raise required_parameter("file")
        declared = fields.get("type")
        mime_type = declared[1].decode(errors="replace") if declared else file[0]
        if not mime_type:
            raise required_parameter("type")
        return _json_response(200, {"id": self.store_media(phone_number_id, file[1], mime_type)})

    def _media_metadata(self, request: HttpRequest, media_id: str) -> HttpResponse:
        media = self._authorized_media(request, media_id)
        url_key = secrets.token_urlsafe(24)
        expires_at = self._clock() + MEDIA_URL_TTL_S
        with self._lock:
            self._forget_expired_urls()
            self._media_urls[url_key] = _MediaUrl(media.id, expires_at)
        url = f"{self.url}/whatsapp_business/attachments/?mid={media.id}&ext={int(expires_at)}&hash={url_key}"
        return _json_response(
            200,
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256.hex(),
                "file_size": len(media.data),
                "id": media.id,
            },
        )

    def _delete_media(self, request: HttpRequest, media_id: str) -> HttpResponse:
        media = self._authorized_media(request, media_id)
        with self._lock:
            self._media.pop(media.id, None)
        return _json_response(200, {"success": True})

    def _authorized_media(self, request: HttpRequest, media_id: str) -> _Media:
        token = _access_token(request)
        with self._lock:
            numbers = [number for number in self._numbers.values() if number.access_token == token]
            media = self._media.get(media_id)
        if token is None or not numbers:
            raise invalid_token()
        if media is None or media.owner not in {number.phone_number_id for number in numbers}:
            raise unknown_object(media_id, request.method)
        return media

    def _download_media(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET":
            raise unknown_path(request.path)
        token = _access_token(request)
        with self._lock:
            link = self._media_urls.get(request.query.get("hash", ""))
            media = self._media.get(link.media_id) if link else None
            owner = self._numbers.get(media.owner) if media else None
        if token is None or token not in self._known_tokens():
            raise invalid_token()
        if (
            link is None
            or media is None
            or request.query.get("mid") != media.id
            or link.expires_at <= self._clock()
        ):
            # Meta's lookaside answers an expired or unknown URL with 404.
            return HttpResponse(404, b"URL signature expired", content_type="text/plain")
        if owner is None or not _same_secret(owner.access_token, token):
            raise invalid_token()
        return HttpResponse(200, media.data, content_type=media.mime_type)

    def _known_tokens(self) -> set[str]:
        with self._lock:
            return {number.access_token for number in self._numbers.values()}

    def _forget_expired_urls(self) -> None:
        now = self._clock()
        for key in [key for key, link in self._media_urls.items() if link.expires_at <= now]:
            del self._media_urls[key]

    # -- control routes -------------------------------------------------------------------------------------

    def _outbox_route(self, request: HttpRequest) -> HttpResponse:
        messages = self.outbox(
            to=request.query.get("to"), phone_number_id=request.query.get("phone_number_id")
        )
        return _json_response(200, {"messages": messages})

    def _add_fault_route(self, request: HttpRequest) -> HttpResponse:
        spec = _control_json(request)
        phone_number_id = spec.get("phone_number_id")
        if not isinstance(phone_number_id, str):
            raise _control_error("phone_number_id is required")
        try:
            if "pair_rate_limit" in spec:
                self.set_pair_rate_limit(phone_number_id, bool(spec["pair_rate_limit"]))
            else:
                self.add_fault(
                    phone_number_id,
                    int(spec.get("code", 0)),
                    int(spec.get("count", 1)),
                    to=spec.get("to"),
                    via=spec.get("via", "response"),
                )
        except (TypeError, ValueError) as exc:
            raise _control_error(str(exc)) from exc
        return _json_response(200, {"success": True})

    def _clear_faults_route(self, request: HttpRequest) -> HttpResponse:
        self.clear_faults(request.query.get("phone_number_id"))
        return _json_response(200, {"success": True})

    def _store_media_route(self, request: HttpRequest) -> HttpResponse:
        phone_number_id = request.headers.get("x-phone-number-id", "")
        self._learn_number(phone_number_id)
        with self._lock:
            known = phone_number_id in self._numbers
        if not known:
            raise _control_error("X-Phone-Number-Id must name a registered phone number id")
        mime_type = request.headers.get("content-type", "").split(";")[0].strip()
        if not mime_type or not request.body:
            raise _control_error("send the file as the body, with its mime type as Content-Type")
        return _json_response(200, {"id": self.store_media(phone_number_id, request.body, mime_type)})

    def _message_templates(self, request: HttpRequest, waba_id: str) -> HttpResponse:
        token = _access_token(request)
        with self._lock:
            known_tokens = {number.access_token for number in self._numbers.values()}
            found = [
                t.described()
                for (account, name, _language), t in self._templates.items()
                if account == waba_id and request.query.get("name") in (None, name)
            ]
        if token is None or token not in known_tokens:
            raise invalid_token()
        return _json_response(200, {"data": found, "paging": {"cursors": {"before": "", "after": ""}}})

    # -- webhook subscriptions (graph_subscriptions) -------------------------------------------------------

    def _authorized_account(self, request: HttpRequest, waba_id: str) -> None:
        """The token may manage the business account. An account registered with numbers takes only
        their tokens; one the emulator was not told of (or knows only from shops' own connections) is,
        locally, whatever a shop connects, so any token is taken for it."""
        token = _access_token(request) or _graph_params(request).get("access_token") or None
        if token is None:
            raise invalid_token()
        with self._lock:
            told = waba_id in self._told_accounts
            tokens = (
                {n.access_token for n in self._numbers.values() if n.waba_id == waba_id} if told else set()
            )
        if tokens and not any(_same_secret(known, token) for known in tokens):
            raise unknown_object(waba_id, request.method)

    def _subscribe_app(self, request: HttpRequest, waba_id: str) -> HttpResponse:
        self._authorized_account(request, waba_id)
        params = _graph_params(request)
        override = params.get("override_callback_uri") or None
        self.subscriptions.subscribe(waba_id, override, params.get("verify_token"))
        log.info("app subscribed to WABA %s%s", waba_id, f", webhooks to {override}" if override else "")
        return _json_response(200, {"success": True})

    def _subscribed_apps(self, request: HttpRequest, waba_id: str) -> HttpResponse:
        self._authorized_account(request, waba_id)
        found = self.subscriptions.subscription(waba_id)
        data: list[dict[str, Any]] = []
        if found is not None:
            app: dict[str, Any] = {
                "whatsapp_business_api_data": {"id": LOCAL_APP_ID, "name": "chatshop (local)"}
            }
            if found.override_callback_uri:
                app["override_callback_uri"] = found.override_callback_uri
            data.append(app)
        return _json_response(200, {"data": data})

    def _templates_route(self, request: HttpRequest) -> HttpResponse:
        spec = _control_json(request)
        required = ("waba_id", "name", "language")
        if not all(isinstance(spec.get(name), str) and spec[name] for name in required):
            raise _control_error("waba_id, name and language (strings) are required")
        self.register_template(
            spec["waba_id"],
            spec["name"],
            spec["language"],
            str(spec.get("category", "MARKETING")),
            str(spec.get("status", "APPROVED")),
        )
        return _json_response(200, {"success": True})

    def _user_preferences_route(self, request: HttpRequest) -> HttpResponse:
        spec = _control_json(request)
        if not all(isinstance(spec.get(name), str) for name in ("phone_number_id", "wa_id")):
            raise _control_error("phone_number_id and wa_id (strings) are required")
        try:
            value = spec.get("value", "stop")
            body = self.send_user_preference(spec["phone_number_id"], spec["wa_id"], value)
        except WebhookDeliveryError as exc:
            raise GraphError(502, 100, str(exc)) from exc
        except ValueError as exc:
            raise _control_error(str(exc)) from exc
        return _json_response(200, body)

    def _inbound_route(self, request: HttpRequest) -> HttpResponse:
        spec = _control_json(request)
        message = spec.get("message")
        if not isinstance(message, dict) or not all(
            isinstance(spec.get(name), str) for name in ("phone_number_id", "from", "profile_name")
        ):
            raise _control_error(
                "phone_number_id, from, profile_name (strings) and message (object) are required"
            )
        try:
            body = self.send_customer_message(
                spec["phone_number_id"], spec["from"], spec["profile_name"], message
            )
        except WebhookDeliveryError as exc:
            raise GraphError(502, 100, str(exc)) from exc
        except ValueError as exc:
            raise _control_error(str(exc)) from exc
        return _json_response(200, body)

    def _payments_route(self, request: HttpRequest) -> HttpResponse:
        spec = _control_json(request)
        if not all(isinstance(spec.get(name), str) for name in ("phone_number_id", "reference_id")):
            raise _control_error("phone_number_id and reference_id (strings) are required")
        try:
            body = self.pay(
                spec["phone_number_id"], spec["reference_id"], str(spec.get("status", "captured"))
            )
        except WebhookDeliveryError as exc:
            raise GraphError(502, 100, str(exc)) from exc
        except ValueError as exc:
            raise _control_error(str(exc)) from exc
        return _json_response(200, body)

    def _number(self, phone_number_id: str) -> _Number:
        number = self._numbers.get(phone_number_id)
        if number is None:
            raise ValueError(f"phone number id {phone_number_id} is not registered")
        return number

    def error_response(self, error: GraphError) -> HttpResponse:
        body = json.dumps(error.body(new_fbtrace_id()), separators=(",", ":")).encode()
        return HttpResponse(
            error.http_status,
            body,
            headers=(("WWW-Authenticate", error.www_authenticate), ("facebook-api-version", self.version)),
        )


# ---------------------------------------------------------------------------------------------------------
# Customer messages (the ``message`` argument of send_customer_message)
# ---------------------------------------------------------------------------------------------------------


def text_message(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def image_message(media_id: str, caption: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"id": media_id}
    if caption is not None:
        image["caption"] = caption
    return {"type": "image", "image": image}


def button_reply(button_id: str, title: str, context_id: str) -> dict[str, Any]:
    """The customer tapped a reply button of the business message ``context_id``."""
    return {
        "context": {"id": context_id},
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
    }


def list_reply(row_id: str, title: str, context_id: str, description: str | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"id": row_id, "title": title}
    if description is not None:
        reply["description"] = description
    return {
        "context": {"id": context_id},
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": reply},
    }


def order_message(catalog_id: str, product_items: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    """``product_items``: ``{"product_retailer_id", "quantity", "item_price", "currency"}`` each."""
    return {
        "type": "order",
        "order": {"catalog_id": catalog_id, "text": text, "product_items": product_items},
    }


# ---------------------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------------------


def _webhook_envelope(
    number: _Number, contact: dict[str, Any], kind: str, items: list[dict[str, Any]]
) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": number.display_phone_number,
            "phone_number_id": number.phone_number_id,
        },
        "contacts": [contact],
        kind: items,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": number.waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def _conversation_and_pricing(conversation: _Conversation, *, with_expiry: bool) -> dict[str, Any]:
    # Meta puts the conversation's expiry only on the `sent` status, and no pricing on `read`.
    described: dict[str, Any] = {"id": conversation.id}
    if with_expiry:
        described["expiration_timestamp"] = str(int(conversation.expires_at))
    described["origin"] = {"type": conversation.category}
    return {
        "conversation": described,
        "pricing": {"billable": True, "pricing_model": "CBP", "category": conversation.category},
    }


def _accepted_body(message: SendRequest, message_id: str) -> dict[str, Any]:
    accepted: dict[str, Any] = {"id": message_id}
    if message.type == "template":
        accepted["message_status"] = "accepted"  # Meta adds it for template messages only
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": message.to, "wa_id": message.wa_id}],
        "messages": [accepted],
    }


def _meta_json(payload: dict[str, Any]) -> bytes:
    # As Meta serialises webhooks: compact, non-ASCII as \uXXXX, "/" as "\/". Receivers must check the
    # signature over these exact bytes; re-serialising would not give them back.
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode("ascii")


def _json_response(status: int, payload: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, json.dumps(payload, separators=(",", ":")).encode())


def _control_json(request: HttpRequest) -> dict[str, Any]:
    try:
        spec = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _control_error("the body must be JSON") from exc
    if not isinstance(spec, dict):
        raise _control_error("the body must be a JSON object")
    return spec


def _control_error(message: str) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}")


def _graph_params(request: HttpRequest) -> dict[str, str]:
    """A POST's parameters as Graph reads them: a JSON body, a form body, or the query string."""
    params = dict(request.query)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.body and content_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    elif request.body:
        try:
            parsed = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            params.update({k: v for k, v in parsed.items() if isinstance(v, str)})
    return params


def _access_token(request: HttpRequest) -> str | None:
    # Graph takes the token from the Authorization header or, as a fallback, the access_token parameter.
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in ("bearer", "oauth") and token.strip():
        return token.strip()
    return request.query.get("access_token") or None


def _multipart_fields(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """``name -> (part content type, bytes)`` of a multipart/form-data body, bytes left exactly as sent."""
    header = HeaderParser().parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise required_parameter("file")
    fields: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = part.partition(b"\r\n\r\n")
        part_headers = HeaderParser().parsestr(head.decode("utf-8", errors="replace").strip() + "\r\n\r\n")
        name = part_headers.get_param("name", header="content-disposition")
        if isinstance(name, str):
            part_type = part_headers.get_content_type() if part_headers.get("content-type") else ""
            fields[name] = (part_type, content.removesuffix(b"\r\n"))
    return fields


# ---------------------------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------------------------


def _new_wamid(wa_id: str) -> str:
    # Real wamids are base64 of a small protobuf holding the user's number and a random id, e.g.
    # "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"; the same layout keeps them lifelike.
    digits = wa_id.encode()[:127]
    random_part = secrets.token_hex(9).upper().encode()
    raw = bytes([0x1C, 0x18, len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12" + random_part + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def _new_media_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))  # Meta's media ids are 16-digit numbers


def _stable_digits(*parts: str, length: int) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return str(int.from_bytes(digest, "big") % 10**length).rjust(length, "1")


def _bsuid(wa_id: str, *, scope: str, parent: bool = False) -> str:
    # Business-scoped user ids (Meta, 2026): "<ISO country>.<digits>", "<country>.ENT.<digits>" for parents.
    country = _country_of(wa_id)
    digits = _stable_digits("bsuid", scope, wa_id, length=20)
    return f"{country}.ENT.{digits}" if parent else f"{country}.{digits}"


def _country_of(wa_id: str) -> str:
    for length in (3, 2, 1):
        country = _CALLING_CODE_COUNTRIES.get(wa_id[:length])
        if country is not None:
            return country
    return "US"


def _is_us_number(wa_id: str) -> bool:
    return len(wa_id) == 11 and wa_id.startswith("1") and wa_id[1:4] not in _NON_US_NANP


def _short_id(message_id: str) -> str:
    # A wamid is base64 of the recipient's number and a random part: log only the random tail.
    return f"wamid…{message_id[-10:]}"


def _same_secret(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def _mask(wa_id: str) -> str:
    return f"…{wa_id[-4:]}"  # never log a full phone number


def _require_loopback(host: str, what: str) -> None:
    # The emulator stands in for Meta on this machine; it neither listens nor posts beyond it.
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"{what} must be on loopback (127.0.0.1), not {host!r}")


# ---------------------------------------------------------------------------------------------------------
# Background work
# ---------------------------------------------------------------------------------------------------------


class _Scheduler:
    """One thread that runs callbacks at their due time, earliest first, so sends return at once."""

    def __init__(self, name: str) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> None:
        with self._condition:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._order), callback))
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if self._thread.is_alive():
            self._thread.join(WEBHOOK_TIMEOUT_S + 1)

    def _run(self) -> None:
        while True:
            callback = self._next_due()
            if callback is None:
                return
            try:
                callback()
            except Exception:
                log.exception("a Graph API emulator webhook job failed")

    def _next_due(self) -> Callable[[], None] | None:
        with self._condition:
            while not self._stopped:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    return heapq.heappop(self._heap)[2]
                self._condition.wait(self._heap[0][0] - now if self._heap else None)
            return None


class _WebhookPoster:
    """POSTs a webhook body as Meta does: JSON, signed with the app secret over the exact bytes."""

    def __init__(self, url: str, app_secret: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._secret = app_secret.encode()

    def post(self, body: bytes) -> bool:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            "X-Hub-Signature": "sha1=" + hmac.new(self._secret, body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest(),
        }
        connection = http.client.HTTPConnection(self._host, self._port, timeout=WEBHOOK_TIMEOUT_S)
        try:
            connection.request("POST", self._path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            log.info("webhook POST failed: %s", exc.__class__.__name__)
            return False
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            log.info("webhook POST answered %d", response.status)
        return 200 <= response.status < 300


# ---------------------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------------------


def _raw(response: HttpResponse) -> RawResponse:
    return RawResponse(
        response.status, [("Content-Type", response.content_type), *response.headers], response.body
    )
