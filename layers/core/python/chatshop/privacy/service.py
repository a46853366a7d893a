"""Privacy requests, filed and run: the desk the route and the chat file them with, and the worker
that exports or erases a customer's data, step by step.

Every step can run again and does only what is still undone (deleting what is gone is nothing;
the export is written under the request's own key), and the request records each step it finished,
so a worker cut short half way carries on where it stopped when the queue delivers the job again.
An erasure is run once more a quarter of an hour after it is done, for what was in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatshop.ads.users import chat_user_key
from chatshop.messaging.channel_store import ChannelStore
from chatshop.orders.order_store import OrderStore
from chatshop.platform.errors import NotFound
from chatshop.platform.observability import get_logger

from .ads_holdings import AdsHoldings
from .bucket_holdings import BucketHoldings, export_key
from .export_archive import build_export
from .jobs import PrivacyQueue
from .messaging_holdings import ConversationHoldings, MessagingHoldings
from .order_holdings import export_orders, pseudonymise_orders
from .request_store import PrivacyRequestStore
from .requests import (
    EXPORT_LINK_LIFETIME,
    MAX_ATTEMPTS,
    SWEEP_DELAY_S,
    ExportLink,
    PrivacyJob,
    PrivacyRequest,
    PrivacyRequestCreate,
    PrivacyRequestView,
    RequestSource,
    new_request_id,
    pseudonym,
)

logger = get_logger()

# Told to the customer who asked in the chat, when their export is ready: (request, wa_id, link).
ExportReady = Callable[[PrivacyRequest, str, ExportLink], None]


def masked(wa_id: str) -> str:
    from chatshop.assistant.state import masked_number

    return masked_number(wa_id)


class PrivacyDesk:
    """Files requests: one open request of a kind per customer, and its job on the queue."""

    def __init__(
        self, requests: PrivacyRequestStore, jobs: PrivacyQueue, secret: Callable[[], bytes]
    ) -> None:
        self.requests = requests
        self.jobs = jobs
        self.secret = secret

    def file(
        self,
        shop_id: str,
        asked: PrivacyRequestCreate,
        source: RequestSource,
        now: datetime,
        delay_s: int = 0,
        language: str | None = None,
    ) -> tuple[PrivacyRequest, bool]:
        """The request, and whether it is new (False: the customer's open one of that kind).
        ``delay_s``: how long its job waits on the queue; ``language``: the chat's, for its answer."""
        wa_id = asked.wa_id
        candidate = PrivacyRequest(
            id=new_request_id(),
            shop_id=shop_id,
            type=asked.type,
            status="queued",
            source=source,
            customer=masked(wa_id),
            subject=pseudonym(self.secret(), shop_id, wa_id),
            created_at=now,
            updated_at=now,
            language=language,
        )
        open_id = self.requests.claim_open(candidate)
        if open_id != candidate.id:
            existing = self.requests.get(shop_id, open_id)
            if existing is not None:
                return existing, False
            # Claimed by a filing cut short before it saved its request: this one finishes it.
            candidate = candidate.model_copy(update={"id": open_id})
        self.requests.save(candidate)
        self.jobs.send(PrivacyJob(request_id=candidate.id, shop_id=shop_id, wa_id=wa_id), delay_s)
        return candidate, True

    def view(
        self, shop_id: str, request_id: str, bucket: BucketHoldings, now: datetime
    ) -> PrivacyRequestView:
        request = self.requests.get(shop_id, request_id)
        if request is None:
            raise NotFound(f"No privacy request {request_id} in this shop.")
        return request.view(export_link(request, bucket, now))


def export_link(request: PrivacyRequest, bucket: BucketHoldings, now: datetime) -> ExportLink | None:
    """A presigned link to the export while it is younger than a day; none after, nor once erased."""
    if request.export_key is None or request.done_at is None:
        return None
    expires_at = request.done_at + EXPORT_LINK_LIFETIME
    if now >= expires_at:
        return None
    return ExportLink(url=bucket.link(request.export_key, expires_at - now), expires_at=expires_at)


@dataclass(frozen=True)
class Holdings:
    """Where a customer's data is; a store that is not deployed in this region is None."""

    messaging: MessagingHoldings
    bucket: BucketHoldings
    orders: OrderStore | None = None
    ads: AdsHoldings | None = None


@dataclass(frozen=True)
class Customer:
    shop_id: str
    wa_id: str
    numbers: tuple[str, ...]  # the shop's WhatsApp numbers (phone number ids)
    ads_key: str
    pseudonym: str


class PrivacyWorker:
    def __init__(
        self,
        requests: PrivacyRequestStore,
        holdings: Holdings,
        channels: ChannelStore,
        secret: Callable[[], bytes],
        jobs: PrivacyQueue,
        export_ready: ExportReady | None = None,
    ) -> None:
        self.requests = requests
        self.holdings = holdings
        self.channels = channels
        self.secret = secret
        self.jobs = jobs
        self.export_ready = export_ready

    def run(self, job: PrivacyJob, now: datetime, attempt: int = 1) -> PrivacyRequest | None:
        request = self.requests.get(job.shop_id, job.request_id)
        if request is None:
            logger.warning("Privacy job for an unknown request", extra={"request_id": job.request_id})
            return None
        if request.status in ("done", "failed") and not job.sweep:
            return request  # delivered again after it finished
        customer = self._customer(request, job.wa_id)
        if job.sweep:
            request = request.model_copy(update={"steps_done": []})
        else:
            request = self._save(request, now, status="running")
        try:
            for step in request.steps:
                if step in request.steps_done:
                    continue
                found, changes = self._step(step, request, customer, now)
                counts = {
                    **request.counts,
                    **{name: request.counts.get(name, 0) + n for name, n in found.items()},
                }
                request = self._save(
                    request, now, steps_done=[*request.steps_done, step], counts=counts, **changes
                )
        except Exception as error:
            if attempt >= MAX_ATTEMPTS:
                self._save(request, now, status="failed", error=type(error).__name__)
                self.requests.release_open(request)
            raise
        if job.sweep:
            return self._save(request, now, swept_at=now)
        finished = self._save(request, now, status="done", done_at=now)
        self.requests.release_open(finished)
        if finished.type == "erasure":
            self.jobs.send(job.model_copy(update={"sweep": True}), SWEEP_DELAY_S)
        elif self.export_ready is not None and finished.source == "chat":
            link = export_link(finished, self.holdings.bucket, now)
            if link is not None:
                self.export_ready(finished, job.wa_id, link)
        return finished

    def _customer(self, request: PrivacyRequest, wa_id: str) -> Customer:
        secret = self.secret()
        if pseudonym(secret, request.shop_id, wa_id) != request.subject:
            raise ValueError("the job's customer is not the request's")
        channel = self.channels.for_shop(request.shop_id)
        numbers = (channel.phone_number_id,) if channel is not None else ()
        return Customer(request.shop_id, wa_id, numbers, chat_user_key(wa_id, secret), request.subject)

    def _save(self, request: PrivacyRequest, now: datetime, **changes: Any) -> PrivacyRequest:
        updated = request.model_copy(update={**changes, "updated_at": now})
        self.requests.save(updated)
        return updated

    def _step(
        self, step: str, request: PrivacyRequest, customer: Customer, now: datetime
    ) -> tuple[dict[str, int], dict[str, Any]]:
        """What the step found (counts), and what it changes on the request."""
        found = getattr(self, f"_{step}")(request, customer, now)
        return found if isinstance(found, tuple) else (found, {})

    # --- export ----------------------------------------------------------------------------------

    def _archive(
        self, request: PrivacyRequest, customer: Customer, now: datetime
    ) -> tuple[dict[str, int], dict[str, Any]]:
        conversations = self._conversations(customer)
        data: dict[str, Any] = {
            "shop_id": customer.shop_id,
            "customer": {"whatsapp_id": customer.wa_id},
            "exported_at": now.isoformat(),
            "conversations": [holdings.as_export() for holdings in conversations],
            "orders": export_orders(self.holdings.orders, customer.shop_id, customer.wa_id)
            if self.holdings.orders
            else [],
            "ads": self.holdings.ads.read(customer.ads_key) if self.holdings.ads else None,
        }
        media: dict[str, bytes] = {}
        for key in (key for holdings in conversations for key in holdings.media_keys):
            content = self.holdings.bucket.read(key)
            if content is not None:
                media[key] = content
        key = export_key(customer.shop_id, request.id)
        self.holdings.bucket.put_export(key, build_export(data, media))
        messages = sum(len(holdings.messages) for holdings in conversations)
        return {"messages": messages, "media": len(media), "orders": len(data["orders"])}, {"export_key": key}

    # --- erasure ---------------------------------------------------------------------------------

    def _files(self, request: PrivacyRequest, customer: Customer, now: datetime) -> dict[str, int]:
        """The files they sent and the raw webhooks about them, before the items that name them."""
        conversations = self._conversations(customer)
        media = self.holdings.bucket.delete(key for holdings in conversations for key in holdings.media_keys)
        archives = self.holdings.bucket.delete(
            key for holdings in conversations for key in holdings.archive_keys
        )
        return {"media": media, "webhook_archives": archives}

    def _messages(self, request: PrivacyRequest, customer: Customer, now: datetime) -> dict[str, int]:
        conversations = self._conversations(customer)
        items = sum(self.holdings.messaging.delete(holdings.keys) for holdings in conversations)
        return {"messages": sum(len(holdings.messages) for holdings in conversations), "items": items}

    def _orders(self, request: PrivacyRequest, customer: Customer, now: datetime) -> dict[str, int]:
        if self.holdings.orders is None:
            return {"orders": 0}
        done = pseudonymise_orders(self.holdings.orders, customer.shop_id, customer.wa_id, customer.pseudonym)
        return {"orders": done}

    def _ads(self, request: PrivacyRequest, customer: Customer, now: datetime) -> dict[str, int]:
        return {"ad_items": self.holdings.ads.erase(customer.ads_key) if self.holdings.ads else 0}

    def _exports(self, request: PrivacyRequest, customer: Customer, now: datetime) -> dict[str, int]:
        """Earlier exports of this customer: the files, and the records' way to them."""
        earlier = [
            found
            for found in self.requests.of_subject(customer.shop_id, customer.pseudonym)
            if found.export_key is not None
        ]
        self.holdings.bucket.delete(found.export_key for found in earlier if found.export_key)
        for found in earlier:
            self.requests.save(found.model_copy(update={"export_key": None}))
        return {"exports": len(earlier)}

    def _conversations(self, customer: Customer) -> list[ConversationHoldings]:
        return [
            self.holdings.messaging.read(customer.shop_id, number, customer.wa_id)
            for number in customer.numbers
        ]
