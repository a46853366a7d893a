"""Where a conversation came from, read from its first message (pure).

A click-to-WhatsApp ad or post puts a ``referral`` on the customer's first message; a wa.me link of
the shop prefills a first message carrying the link's short code. Anything else is organic. The
source is recorded once, on the conversation, with the time of the first contact: an order is
credited to it when placed within the shop's attribution window (:func:`credited_source`).

The source travels as a plain dict (:meth:`Source.as_dict`): it is kept on the conversation's state,
handed to the orders context as ``Buyer.source`` and stored on the order, and every reader takes it
back with :meth:`Source.of`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict

from chatshop.shops.domain import Product

SourceKind = Literal["ad", "post", "link", "organic"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("ad", "post", "link", "organic")

# A link's code: eight characters of an alphabet without look-alikes (no 0/O, 1/I/L), in brackets at
# the end of the prefilled message; the customer may edit the words around it, so it is found anywhere.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE = re.compile(rf"\[([{CODE_ALPHABET}]{{{CODE_LENGTH}}})\]")
_WORDS = re.compile(r"\w+")


class Source(BaseModel):
    """Where one conversation came from: an ad or post (Meta's referral), a link of the shop, or
    nothing (organic). ``ctwa_clid`` is Meta's click id of an ad, kept for the Conversions API."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: SourceKind = "organic"
    # The ad's or post's id (Meta's ``source_id``), or the link's code.
    id: str | None = None
    url: str | None = None
    headline: str | None = None
    ctwa_clid: str | None = None
    label: str | None = None
    # The shop's product the ad or link showed, when it names one.
    retailer_id: str | None = None

    @classmethod
    def organic(cls) -> Source:
        return cls()

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> Source:
        """The source a stored dict describes; organic for None (a conversation before recruiting)."""
        return cls.model_validate(value) if value else cls.organic()

    @property
    def key(self) -> str:
        """The source as the acquisition report groups it: ``ad:<id>``, ``link:<code>``, ``organic``."""
        if self.kind == "organic":
            return "organic"
        return f"{self.kind}:{self.id or 'unknown'}"

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def from_referral(referral: Any, products: Iterable[Product] = ()) -> Source:
    """The ad or post of Meta's ``referral`` (``chatshop.messaging.inbound.Referral``), with the
    shop's product it names, if any."""
    kind: SourceKind = "post" if getattr(referral, "source_type", None) == "post" else "ad"
    product = match_product(products, referral.source_url, referral.headline)
    return Source(
        kind=kind,
        id=referral.source_id,
        url=referral.source_url,
        headline=referral.headline,
        ctwa_clid=referral.ctwa_clid,
        retailer_id=product.retailer_id if product is not None else None,
    )


def link_code_in(text: str | None) -> str | None:
    """The code of a shop link in a customer's message, as its prefilled text carries it."""
    if not text:
        return None
    found = _CODE.search(text.upper())
    return found.group(1) if found else None


def without_code(text: str, code: str) -> str:
    """The message's words without the link's code (what is left is the customer's own greeting)."""
    return re.sub(rf"\[\s*{re.escape(code)}\s*\]", " ", text, flags=re.IGNORECASE).strip()


def match_product(products: Iterable[Product], url: str | None, headline: str | None) -> Product | None:
    """The product an ad shows: the one whose page is the ad's URL, else whose retailer id is a part
    of that URL, else the one whose title the headline holds (the longest such title)."""
    listed = list(products)
    if url:
        wanted = _page(url)
        for product in listed:
            if product.link and _page(product.link) == wanted:
                return product
        parts = _url_parts(url)
        for product in listed:
            if product.retailer_id.casefold() in parts:
                return product
    if headline:
        words = _words(headline)
        best: Product | None = None
        for product in listed:
            title = _words(product.title)
            if title and _contains(words, title) and (best is None or len(title) > len(_words(best.title))):
                best = product
        return best
    return None


def credited_source(
    source: Mapping[str, Any] | None,
    first_contact_at: datetime | None,
    placed_at: datetime,
    window_days: int,
) -> Source:
    """What an order placed at ``placed_at`` is credited to: the conversation's source while the
    shop's attribution window from the first contact is open, organic after it."""
    found = Source.of(source)
    if found.kind == "organic" or first_contact_at is None:
        return Source.organic()
    if placed_at - first_contact_at > timedelta(days=window_days):
        return Source.organic()
    return found


def _page(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").casefold().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


def _url_parts(url: str) -> set[str]:
    parts = urlsplit(url.strip())
    found = {segment.casefold() for segment in parts.path.split("/") if segment}
    found |= {value.casefold() for _name, value in parse_qsl(parts.query) if value}
    return found


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text.casefold()))


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))
