"""What the conversation asks of recruiting, in one place: the inbound worker's view of links,
consents and the acquisition counters (``chatshop.assistant.dialogue.Recruits``)."""

from __future__ import annotations

from datetime import datetime

from chatshop.platform.config import Settings
from chatshop.shops.domain import Shop

from . import acquisition
from .acquisition_store import AcquisitionStore
from .consent_store import ConsentStore
from .domain import Consent, ConsentStatus, ConsentVia, Link
from .link_store import LinkStore
from .sources import Source


class RecruitingDesk:
    def __init__(self, settings: Settings) -> None:
        self._links = LinkStore(settings)
        self._consents = ConsentStore(settings)
        self._counters = AcquisitionStore(settings)

    def link(self, shop_id: str, code: str) -> Link | None:
        return self._links.get(shop_id, code)

    def count_conversation(
        self, shop: Shop, conversation_key: str, source: Source, started_at: datetime
    ) -> None:
        acquisition.count_conversation(self._counters, shop, conversation_key, source, started_at)

    def consent(self, shop_id: str, phone_number_id: str, customer: str) -> Consent | None:
        return self._consents.get(shop_id, phone_number_id, customer)

    def change_consent(
        self,
        shop_id: str,
        phone_number_id: str,
        customer: str,
        status: ConsentStatus,
        via: ConsentVia,
        at: datetime,
        words: str | None = None,
    ) -> bool:
        return self._consents.change(shop_id, phone_number_id, customer, status, via, at, words)
