"""The assistant's messages, composed within Meta's limits from its catalogs (pure).

Every sentence comes from :mod:`chatshop.assistant.phrases` through a :class:`Translator`; every
button and row carries an id :mod:`chatshop.assistant.intents` understands when it comes back.
Texts from the catalog (titles, category names) are cut to the field they fill, never the
assistant's own sentences (the catalog test keeps those within the limits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chatshop.messaging.outbound import (
    MAX_BUTTON_TITLE,
    MAX_HEADER_TEXT,
    MAX_INTERACTIVE_BODY,
    MAX_LIST_BODY,
    MAX_LIST_ROWS,
    MAX_PRODUCT_ITEMS,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_SECTION_TITLE,
    Button,
    ListMessage,
    ListRow,
    ListSection,
    OutboundMessage,
    ProductListMessage,
    ProductMessage,
    ProductSection,
    ReplyButtons,
    Text,
)
from chatshop.shops.money import Money

from . import intents, phrases
from .i18n import Translator
from .views import CategoryView, ProductView

# A page of a list message: nine products and a row for the next page.
LIST_PAGE = MAX_LIST_ROWS - 1
# A multi-product message holds 30; a page that long is more than a chat screen shows.
PRODUCT_LIST_PAGE = 10
ADVICE_SHOWN = 3

_AVAILABILITY = {
    "in stock": phrases.IN_STOCK,
    "out of stock": phrases.OUT_OF_STOCK,
    "preorder": phrases.PREORDER,
    "available for order": phrases.AVAILABLE_FOR_ORDER,
    "discontinued": phrases.DISCONTINUED,
}
_BROKEN = {
    "price": phrases.BROKE_PRICE,
    "stock": phrases.BROKE_STOCK,
    "color": phrases.BROKE_COLOR,
    "size": phrases.BROKE_SIZE,
    "brand": phrases.BROKE_BRAND,
    "category": phrases.BROKE_CATEGORY,
}


def cut(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters (a title, a name)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def cut_body(text: str, limit: int) -> str:
    """A message body of at most ``limit`` characters, its lines kept."""
    text = "\n".join(" ".join(line.split()) for line in text.strip().splitlines())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- Menu -------------------------------------------------------------------------------------------


def menu_buttons(t: Translator) -> tuple[Button, ...]:
    return (
        Button(id=intents.MENU_BROWSE, title=t.text(phrases.BUTTON_BROWSE)),
        Button(id=intents.MENU_ASK, title=t.text(phrases.BUTTON_ASK)),
        Button(id=intents.MENU_AGENT, title=t.text(phrases.BUTTON_AGENT)),
    )


def welcome(t: Translator, shop_name: str, customer_name: str | None) -> ReplyButtons:
    shop = cut(shop_name, 100)
    if customer_name:
        body = t.text(phrases.WELCOME_NAMED, name=cut(customer_name, 60), shop=shop)
    else:
        body = t.text(phrases.WELCOME, shop=shop)
    return ReplyButtons(body=body, buttons=menu_buttons(t))


def welcome_again(t: Translator) -> Text:
    return Text(body=t.text(phrases.WELCOME_AGAIN))


def not_understood(t: Translator) -> ReplyButtons:
    return ReplyButtons(body=t.text(phrases.NOT_UNDERSTOOD), buttons=menu_buttons(t))


def ask_prompt(t: Translator, currency: str, example_amount_minor: int) -> Text:
    example = t.text(phrases.ASK_EXAMPLE, price=t.money(example_amount_minor, currency))
    return Text(body=t.text(phrases.ASK_PROMPT, example=example))


def text(t: Translator, message: str, **params: str) -> Text:
    return Text(body=t.text(message, **params))


# --- Browsing ---------------------------------------------------------------------------------------


def categories(t: Translator, found: Sequence[CategoryView], page: int) -> ListMessage | Text:
    """One page of the catalog's categories; a last row opens the next page when there is one."""
    if not found:
        return Text(body=t.text(phrases.CATALOG_EMPTY))
    start = page * LIST_PAGE
    shown = found[start : start + LIST_PAGE] if len(found) > MAX_LIST_ROWS else found
    rows = [
        ListRow(
            id=f"{intents.CATEGORY_PREFIX}{c.key}",
            title=cut(c.name or t.text(phrases.OTHER_CATEGORY), MAX_ROW_TITLE),
            description=cut(t.text(phrases.CATEGORY_ROW, count=t.number(c.in_stock)), MAX_ROW_DESCRIPTION),
        )
        for c in shown
    ]
    if len(found) > MAX_LIST_ROWS and start + LIST_PAGE < len(found):
        rows.append(
            ListRow(
                id=f"{intents.CATEGORIES_PAGE_PREFIX}{page + 1}",
                title=t.text(phrases.MORE_ROW_TITLE),
                description=t.text(phrases.MORE_ROW_DESCRIPTION),
            )
        )
    return ListMessage(
        body=t.text(phrases.CATEGORIES_BODY),
        button_label=t.text(phrases.CATEGORIES_BUTTON),
        sections=(
            ListSection(title=cut(t.text(phrases.CATEGORIES_SECTION), MAX_SECTION_TITLE), rows=tuple(rows)),
        ),
    )


def product_page(
    t: Translator,
    body: str,
    header: str | None,
    products: Sequence[ProductView],
    more: bool,
    catalog_id: str | None,
    add_rows: bool = False,
) -> ListMessage | ProductListMessage:
    """Products the customer can tap: Meta's product list where the shop has a WhatsApp catalog
    (the customer sees pictures and can add to the cart there), otherwise a list of rows; with
    ``add_rows`` (a short list: advice) a second section puts each one in the chat's cart."""
    if catalog_id:
        return ProductListMessage(
            catalog_id=catalog_id,
            header=cut(header or t.text(phrases.PRODUCTS_SECTION), MAX_HEADER_TEXT),
            body=cut_body(body, MAX_INTERACTIVE_BODY),
            sections=(
                ProductSection(
                    title=cut(header or t.text(phrases.PRODUCTS_SECTION), MAX_SECTION_TITLE),
                    product_retailer_ids=tuple(dict.fromkeys(p.retailer_id for p in products))[
                        :MAX_PRODUCT_ITEMS
                    ],
                ),
            ),
        )
    rows = [product_row(t, p) for p in products[:LIST_PAGE]]
    if more:
        rows.append(
            ListRow(
                id=intents.MORE,
                title=t.text(phrases.MORE_ROW_TITLE),
                description=t.text(phrases.MORE_ROW_DESCRIPTION),
            )
        )
    sections = [
        ListSection(
            title=cut(header or t.text(phrases.PRODUCTS_SECTION), MAX_SECTION_TITLE), rows=tuple(rows)
        )
    ]
    adding = products[: MAX_LIST_ROWS - len(rows)] if add_rows else []
    if adding:
        sections.append(
            ListSection(
                title=cut(t.text(phrases.ADD_SECTION), MAX_SECTION_TITLE),
                rows=tuple(
                    ListRow(
                        id=f"{intents.ADD_PREFIX}{p.id}",
                        title=cut(p.title, MAX_ROW_TITLE),
                        description=cut(t.text(phrases.ADD_ROW_DESCRIPTION), MAX_ROW_DESCRIPTION),
                    )
                    for p in adding
                ),
            )
        )
    return ListMessage(
        body=cut_body(body, MAX_LIST_BODY),
        button_label=t.text(phrases.PRODUCTS_BUTTON),
        header=cut(header, MAX_HEADER_TEXT) if header else None,
        sections=tuple(sections),
    )


def product_row(t: Translator, product: ProductView) -> ListRow:
    description = t.text(
        phrases.ROW_DESCRIPTION, price=price_label(t, product), availability=availability(t, product)
    )
    return ListRow(
        id=f"{intents.SHOW_PREFIX}{product.id}",
        title=cut(product.title, MAX_ROW_TITLE),
        description=cut(description, MAX_ROW_DESCRIPTION),
    )


def product_card(
    t: Translator, product: ProductView, image_url: str | None, catalog_id: str | None
) -> ProductMessage | ReplyButtons:
    """One product: Meta's product message from the shop's WhatsApp catalog (WhatsApp's own cart
    takes it from there), else its picture, title, price and availability with buttons to order it
    now or to add it to the chat's cart."""
    caption = t.text(
        phrases.PRODUCT_CAPTION,
        title=product.title,
        price=price_label(t, product),
        availability=availability(t, product),
    )
    if catalog_id:
        return ProductMessage(
            catalog_id=catalog_id,
            product_retailer_id=product.retailer_id,
            body=cut_body(caption, MAX_INTERACTIVE_BODY),
        )
    buttons = [
        Button(
            id=f"{intents.ORDER_PREFIX}{product.id}",
            title=cut(t.text(phrases.BUTTON_ORDER), MAX_BUTTON_TITLE),
        ),
        Button(
            id=f"{intents.ADD_PREFIX}{product.id}",
            title=cut(t.text(phrases.BUTTON_ADD_TO_CART), MAX_BUTTON_TITLE),
        ),
    ]
    buttons.append(Button(id=intents.MENU, title=t.text(phrases.BUTTON_MENU)))
    return ReplyButtons(
        body=cut_body(caption, MAX_INTERACTIVE_BODY), header_image=image_url, buttons=tuple(buttons)
    )


# --- Advice -----------------------------------------------------------------------------------------


def advice(
    t: Translator, products: Sequence[ProductView], more: bool, catalog_id: str | None
) -> OutboundMessage:
    """At most three fitting products named with price and availability, each one tap away."""
    named = products[:ADVICE_SHOWN]
    lines = [t.text(phrases.ADVICE_INTRO)]
    for position, product in enumerate(named, start=1):
        lines.append(
            t.text(
                phrases.ADVICE_LINE,
                position=str(position),
                title=cut(product.title, 80),
                price=price_label(t, product),
                availability=availability(t, product),
            )
        )
    lines.append(t.text(phrases.ADVICE_OUTRO))
    return product_page(t, "\n".join(lines), None, named, more, catalog_id, add_rows=True)


def no_fit(
    t: Translator,
    alternatives: Sequence[ProductView],
    broken: Mapping[str, Sequence[str]],
    catalog_id: str | None,
) -> OutboundMessage:
    """Nothing fits all the customer asked for: said first, then the nearest products, each with
    what it does not meet; or, when there is nothing near, the way to browse or a person."""
    if not alternatives:
        return ReplyButtons(
            body=t.text(phrases.NO_FIT) + "\n" + t.text(phrases.NO_MATCH), buttons=menu_buttons(t)
        )
    lines = [t.text(phrases.NO_FIT), t.text(phrases.ALTERNATIVES_INTRO)]
    named = alternatives[:ADVICE_SHOWN]
    for position, product in enumerate(named, start=1):
        why = ", ".join(t.text(_BROKEN[kind]) for kind in broken.get(product.id, ()) if kind in _BROKEN)
        lines.append(
            t.text(
                phrases.ALTERNATIVE_LINE,
                position=str(position),
                title=cut(product.title, 80),
                price=price_label(t, product),
                availability=availability(t, product),
                why=why or t.text(phrases.BROKE_CATEGORY),
            )
        )
    return product_page(t, "\n".join(lines), None, named, False, catalog_id)


def no_match(t: Translator) -> ReplyButtons:
    return ReplyButtons(body=t.text(phrases.NO_MATCH), buttons=menu_buttons(t))


# --- Products' words --------------------------------------------------------------------------------


def price_label(t: Translator, product: ProductView) -> str:
    if product.on_sale:
        assert product.sale_price is not None
        return t.text(phrases.SALE_PRICE, sale=money(t, product.sale_price), price=money(t, product.price))
    return money(t, product.price)


def money(t: Translator, amount: Money) -> str:
    return t.money(amount.amount, amount.currency)


def availability(t: Translator, product: ProductView) -> str:
    return t.text(_AVAILABILITY[product.availability])
