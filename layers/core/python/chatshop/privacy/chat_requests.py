"""Privacy requests from the shop's chat: what the assistant calls when a customer confirms "export
my data" or "delete my data", and how the export's link is brought back to them there.

The request is the one the API files (``PrivacyDesk``), with ``source: chat``; an erasure waits a
minute on the queue, so the reply that says it is starting goes out before the data does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from chatshop.messaging.channel_store import ChannelStore
from chatshop.messaging.records import OutboundRecord

from .requests import CHAT_ERASURE_DELAY_S, ExportLink, PrivacyRequest, PrivacyRequestCreate
from .service import PrivacyDesk


class ChatDataRequests:
    def __init__(self, desk: PrivacyDesk) -> None:
        self.desk = desk

    def file(
        self, shop_id: str, wa_id: str, kind: Literal["export", "erasure"], at: datetime, language: str
    ) -> None:
        delay = CHAT_ERASURE_DELAY_S if kind == "erasure" else 0
        asked = PrivacyRequestCreate(type=kind, customer=f"+{wa_id}")
        self.desk.file(shop_id, asked, "chat", at, delay_s=delay, language=language)


class ExportReadyMessage:
    """The export's link, sent in the chat to the customer who asked there (inside their 24-hour
    window: they asked moments ago), once per request."""

    def __init__(
        self,
        channels: ChannelStore,
        send: Callable[[OutboundRecord], None],
        words: Callable[[PrivacyRequest, str | None, ExportLink], dict],
        country_of: Callable[[str], str | None],
    ) -> None:
        self.channels = channels
        self.send = send
        self.words = words
        self.country_of = country_of

    def __call__(self, request: PrivacyRequest, wa_id: str, link: ExportLink) -> None:
        channel = self.channels.for_shop(request.shop_id)
        if channel is None:
            return
        self.send(
            OutboundRecord(
                id=f"export-{request.id}",
                shop_id=request.shop_id,
                phone_number_id=channel.phone_number_id,
                to=wa_id,
                message=self.words(request, self.country_of(request.shop_id), link),
                created_at=request.done_at or request.updated_at,
            )
        )
