"""The shop's wa.me links and their QR codes: a link opens a chat with the shop's number, its first
message prefilled with the link's short code, so the conversation it starts is credited to it.

The QR code is a PNG made with segno, once, when the link is made, and kept with it (under 1 KB):
segno writes PNGs in pure Python, some tens of milliseconds a code, too slow to make a page of them
again for every list.
"""

from __future__ import annotations

import base64
import io
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from urllib.parse import quote

from chatshop.platform.errors import Conflict, NotFound
from chatshop.shops.domain import Product, Shop

from .domain import Link, LinkCreate, LinkWithQr
from .link_store import CodeTaken, LinkStore
from .sources import CODE_ALPHABET, CODE_LENGTH
from .templates import NO_NUMBER

# A code is 8 of 31 characters (~8.5e11 codes): a clash in one shop is near impossible, and retried.
_TRIES = 5
QR_SCALE = 8
QR_BORDER = 4


class Products(Protocol):
    def by_retailer_id(self, shop: Shop, retailer_id: str) -> Product | None: ...


class ShopNumbers(Protocol):
    def display_number(self, shop_id: str) -> str | None:
        """The shop's WhatsApp number as people dial it, or None when no number is connected."""


# The prefilled first message, in the shop's language, with ``{code}`` where the code goes.
PrefilledWords = Callable[[Shop, Product | None], str]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def wa_me_url(display_number: str, text: str) -> str:
    """WhatsApp's click-to-chat link: the number in full international form, digits only."""
    digits = "".join(ch for ch in display_number if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


def qr_png(url: str) -> bytes:
    import segno  # only the routes that draw a code pay for it

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue()


def with_qr(link: Link) -> LinkWithQr:
    return LinkWithQr(**link.model_dump(), qr_png_base64=base64.b64encode(qr_png(link.url)).decode())


def create_link(
    store: LinkStore,
    numbers: ShopNumbers,
    products: Products,
    shop: Shop,
    request: LinkCreate,
    words: PrefilledWords,
    now: datetime,
) -> LinkWithQr:
    display_number = numbers.display_number(shop.id)
    if display_number is None:
        raise Conflict(NO_NUMBER)
    product = None
    if request.retailer_id is not None:
        product = products.by_retailer_id(shop, request.retailer_id)
        if product is None:
            # 404, not 422: the request is well formed, the product it names does not exist.
            raise NotFound(f"The shop has no product {request.retailer_id!r}.")
    template = words(shop, product)
    for _ in range(_TRIES):
        code = new_code()
        text = template.replace("{code}", code)
        link = with_qr(
            Link(
                id=code,
                shop_id=shop.id,
                label=request.label,
                retailer_id=request.retailer_id,
                url=wa_me_url(display_number, text),
                prefilled_text=text,
                created_at=now,
            )
        )
        try:
            store.create(link)
        except CodeTaken:
            continue
        return link
    raise Conflict("No free link code was found; try again.")


def list_links(
    store: LinkStore, shop: Shop, limit: int, cursor: str | None
) -> tuple[list[LinkWithQr], str | None]:
    return store.list(shop.id, limit, cursor)
