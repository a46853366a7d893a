"""A ``messages`` campaign's way into the shop's chat: a link of the shop (``chatshop.recruiting``)
whose code names the campaign, so the chat a click opens, and the orders placed in it, are the
campaign's.

The code is derived from the campaign id (eight characters of the links' alphabet), so the decision
puts it in the click's prefilled first message without a lookup, and an order credited to a link
finds its campaign among the shop's by computing the same code. The refresh registers the link with
the shop's other links once (the merchant sees it there, labelled ``Shop Ads: <campaign name>``),
and the conversation's first message carrying it is credited to it as to any link.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from chatshop.recruiting.domain import Link, LinkWithQr
from chatshop.recruiting.sources import CODE_ALPHABET, CODE_LENGTH

from .domain import Campaign

__all__ = ["CampaignLinks", "ChatLinks", "campaign_chat_url", "campaign_link_code", "campaign_of_code"]

LABEL_PREFIX = "Shop Ads: "
_TITLE_CHARS = 80


def campaign_link_code(campaign_id: str) -> str:
    """The campaign's link code: stable, and in the alphabet the chat recognises codes in."""
    digest = hashlib.sha256(f"shop-ads\x00{campaign_id}".encode()).digest()
    return "".join(CODE_ALPHABET[byte % len(CODE_ALPHABET)] for byte in digest[:CODE_LENGTH])


def campaign_chat_text(title: str, code: str) -> str:
    """The prefilled first message: the product's title, then the code the chat credits it by."""
    return f"{title[:_TITLE_CHARS]} [{code}]"


def campaign_chat_url(chat: str, campaign_id: str, title: str) -> str:
    """``https://wa.me/<number>?text=<title> [<code>]`` for a click on the campaign's ad."""
    return f"{chat}?text={quote(campaign_chat_text(title, campaign_link_code(campaign_id)), safe='')}"


def campaign_of_code(campaigns: list[Campaign], code: str) -> Campaign | None:
    """The shop's ``messages`` campaign whose link code ``code`` is, if any."""
    for campaign in campaigns:
        if campaign.objective == "messages" and campaign_link_code(campaign.id) == code:
            return campaign
    return None


class ChatLinks(Protocol):
    def ensure(self, campaign: Campaign, chat: str, title: str, now: datetime) -> None:
        """Register the campaign's link with the shop's links (nothing if it is there already)."""


class _LinkStore(Protocol):
    def create(self, link: LinkWithQr) -> None: ...


class CampaignLinks:
    """:class:`ChatLinks` over the recruiting context's link store."""

    def __init__(self, store: _LinkStore) -> None:
        self._store = store

    def ensure(self, campaign: Campaign, chat: str, title: str, now: datetime) -> None:
        from chatshop.recruiting.link_store import CodeTaken
        from chatshop.recruiting.links import with_qr

        code = campaign_link_code(campaign.id)
        link = Link(
            id=code,
            shop_id=campaign.shop_id,
            label=f"{LABEL_PREFIX}{campaign.name}"[:100],
            url=campaign_chat_url(chat, campaign.id, title),
            prefilled_text=campaign_chat_text(title, code),
            created_at=now,
        )
        with contextlib.suppress(CodeTaken):  # registered by an earlier run
            self._store.create(with_qr(link))
