"""The till's messages: the cart, what went wrong with an order, the order placed and how to pay,
the customer's orders (pure; composed like :mod:`chatshop.assistant.replies`).

Amounts are the catalog's as it is now (the cart) or the order's as the orders context priced it;
nothing here adds money up but the cart's running total, which the order prices again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from chatshop.messaging.outbound import (
    MAX_BUTTON_TITLE,
    MAX_INTERACTIVE_BODY,
    MAX_LIST_BODY,
    MAX_LIST_ROWS,
    MAX_ORDER_ITEM_NAME,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_SECTION_TITLE,
    Amount,
    Button,
    CallToAction,
    ListMessage,
    ListRow,
    ListSection,
    OrderDetails,
    OrderDetailsItem,
    ReplyButtons,
    Text,
)
from chatshop.shops.domain import Product

from . import intents, phrases
from .cart import MAX_LINES, MAX_QUANTITY, Cart, PricedLine, total
from .i18n import Translator
from .replies import cut, cut_body, money

# The "Keep it" answer to "which order should I cancel?" (order ids start with "o").
KEEP = "keep"
# A title in a line of the cart or of an order: enough to tell products apart in a chat bubble.
_LINE_TITLE = 60

STATUS_WORDS = {
    "pending_payment": phrases.STATUS_PENDING_PAYMENT,
    "paid": phrases.STATUS_PAID,
    "shipped": phrases.STATUS_SHIPPED,
    "delivered": phrases.STATUS_DELIVERED,
    "cancelled": phrases.STATUS_CANCELLED,
    "refunded": phrases.STATUS_REFUNDED,
}
_PROBLEMS = {
    "unknown": phrases.PROBLEM_UNKNOWN,
    "discontinued": phrases.PROBLEM_DISCONTINUED,
    "out_of_stock": phrases.PROBLEM_OUT_OF_STOCK,
    "insufficient": phrases.PROBLEM_INSUFFICIENT,
}


def _button(t: Translator, reply_id: str, phrase: str, **params: str) -> Button:
    return Button(id=reply_id, title=cut(t.text(phrase, **params), MAX_BUTTON_TITLE))


def cart_buttons(t: Translator) -> tuple[Button, ...]:
    return (
        _button(t, intents.CHECKOUT, phrases.BUTTON_CHECKOUT),
        _button(t, intents.CART_EDIT, phrases.BUTTON_EDIT_CART),
        _button(t, intents.MENU_BROWSE, phrases.BUTTON_KEEP_SHOPPING),
    )


def _lines(t: Translator, lines: Sequence[PricedLine]) -> list[str]:
    said = []
    for line in lines:
        title = cut(line.product.title if line.product else line.item.title, _LINE_TITLE)
        quantity = t.number(line.item.quantity)
        if line.total is None or (line.product is not None and line.product.availability == "discontinued"):
            said.append(t.text(phrases.CART_LINE_GONE, quantity=quantity, title=title))
        else:
            said.append(t.text(phrases.CART_LINE, quantity=quantity, title=title, total=money(t, line.total)))
    return said


def added(
    t: Translator, title: str, quantity: int, capped: bool, lines: Sequence[PricedLine], currency: str
) -> ReplyButtons:
    if capped:
        first = t.text(
            phrases.ADDED_CAPPED,
            limit=t.number(MAX_QUANTITY),
            quantity=t.number(quantity),
            title=cut(title, 80),
        )
    else:
        first = t.text(phrases.ADDED, quantity=t.number(quantity), title=cut(title, 80))
    body = "\n".join([first, t.text(phrases.CART_TOTAL, total=money(t, total(lines, currency)))])
    buttons = (
        _button(t, intents.CHECKOUT, phrases.BUTTON_CHECKOUT),
        _button(t, intents.CART, phrases.BUTTON_VIEW_CART),
        _button(t, intents.MENU_BROWSE, phrases.BUTTON_KEEP_SHOPPING),
    )
    return ReplyButtons(body=cut_body(body, MAX_INTERACTIVE_BODY), buttons=buttons)


def cart_view(
    t: Translator, lines: Sequence[PricedLine], currency: str, intro: str | None = None
) -> ReplyButtons:
    """The cart's lines and total, with checkout, edit and browse buttons; an empty cart says so."""
    if not lines:
        body = "\n".join(part for part in (intro, t.text(phrases.CART_IS_EMPTY)) if part)
        return ReplyButtons(
            body=cut_body(body, MAX_INTERACTIVE_BODY),
            buttons=(
                _button(t, intents.MENU_BROWSE, phrases.BUTTON_BROWSE),
                _button(t, intents.MENU_ASK, phrases.BUTTON_ASK),
            ),
        )
    parts = [intro] if intro else []
    parts += [t.text(phrases.CART_HEADER), *_lines(t, lines)]
    parts.append(t.text(phrases.CART_TOTAL, total=money(t, total(lines, currency))))
    return ReplyButtons(body=cut_body("\n".join(parts), MAX_INTERACTIVE_BODY), buttons=cart_buttons(t))


def cart_edit(t: Translator, cart: Cart, body: str | None = None) -> ListMessage:
    """A row per line to take it out, and a last row to empty the cart."""
    shown = cart.items[: MAX_LIST_ROWS - 1]
    rows = [
        ListRow(
            id=f"{intents.REMOVE_PREFIX}{item.product_id}",
            title=cut(f"{t.number(item.quantity)} \u00d7 {item.title}", MAX_ROW_TITLE),
            description=cut(t.text(phrases.REMOVE_ROW_DESCRIPTION), MAX_ROW_DESCRIPTION),
        )
        for item in shown
    ]
    rows.append(
        ListRow(
            id=intents.CART_EMPTY,
            title=cut(t.text(phrases.EMPTY_CART_ROW_TITLE), MAX_ROW_TITLE),
            description=cut(t.text(phrases.EMPTY_CART_ROW_DESCRIPTION), MAX_ROW_DESCRIPTION),
        )
    )
    return ListMessage(
        body=cut_body(body or t.text(phrases.EDIT_CART_BODY), MAX_LIST_BODY),
        button_label=cut(t.text(phrases.EDIT_CART_BUTTON), MAX_BUTTON_TITLE),
        sections=(
            ListSection(title=cut(t.text(phrases.EDIT_CART_SECTION), MAX_SECTION_TITLE), rows=tuple(rows)),
        ),
    )


def which(t: Translator, products: Sequence[Product], quantity: int) -> ListMessage:
    """Several products fit the words: each a row that adds ``quantity`` of it."""
    rows = [
        ListRow(
            id=f"{intents.ADD_PREFIX}{product.id}:{quantity}",
            title=cut(product.title, MAX_ROW_TITLE),
            description=cut(money(t, product.sale_price or product.price), MAX_ROW_DESCRIPTION),
        )
        for product in products[:MAX_LIST_ROWS]
    ]
    return ListMessage(
        body=t.text(phrases.ADD_WHICH),
        button_label=cut(t.text(phrases.ADD_WHICH_BUTTON), MAX_BUTTON_TITLE),
        sections=(
            ListSection(title=cut(t.text(phrases.ADD_WHICH_SECTION), MAX_SECTION_TITLE), rows=tuple(rows)),
        ),
    )


def cart_full(t: Translator) -> ReplyButtons:
    return ReplyButtons(body=t.text(phrases.CART_FULL, limit=t.number(MAX_LINES)), buttons=cart_buttons(t))


def reminder(t: Translator, lines: Sequence[PricedLine], currency: str) -> ReplyButtons:
    count = sum(line.item.quantity for line in lines)
    body = t.text(phrases.REMINDER, count=t.number(count), total=money(t, total(lines, currency)))
    return ReplyButtons(
        body=cut_body(body, MAX_INTERACTIVE_BODY),
        buttons=(
            _button(t, intents.CHECKOUT, phrases.BUTTON_CHECKOUT),
            _button(t, intents.CART, phrases.BUTTON_VIEW_CART),
        ),
    )


# --- An order -----------------------------------------------------------------------------------------


def problems(
    t: Translator, found: Sequence[tuple[str, int | None]], titles: Mapping[str, str], reasons: Sequence[str]
) -> ReplyButtons:
    """Every line that could not be ordered, named; ``found`` is (retailer id, available) by reason."""
    lines = [t.text(phrases.ORDER_PROBLEMS)]
    for (retailer_id, available), reason in zip(found, reasons, strict=True):
        title = cut(titles.get(retailer_id, retailer_id), _LINE_TITLE)
        lines.append("\u2022 " + t.text(_PROBLEMS[reason], title=title, available=t.number(available or 0)))
    lines.append(t.text(phrases.ORDER_PROBLEMS_OUTRO))
    return ReplyButtons(
        body=cut_body("\n".join(lines), MAX_INTERACTIVE_BODY),
        buttons=(
            _button(t, intents.CART, phrases.BUTTON_VIEW_CART),
            _button(t, intents.MENU_AGENT, phrases.BUTTON_AGENT),
        ),
    )


def order_summary(t: Translator, number: str, lines: Sequence[tuple[str, int, str]], total_said: str) -> str:
    """``lines``: title, quantity and the line's total as said."""
    said = [t.text(phrases.ORDER_PLACED, number=number)]
    said += [
        t.text(phrases.CART_LINE, quantity=t.number(q), title=cut(title, _LINE_TITLE), total=line_total)
        for title, q, line_total in lines
    ]
    said.append(t.text(phrases.CART_TOTAL, total=total_said))
    return "\n".join(said)


def pay_on_delivery(t: Translator, summary: str, total_said: str, at_pickup: bool) -> Text:
    how = phrases.PAY_AT_PICKUP if at_pickup else phrases.PAY_ON_DELIVERY
    return Text(body=f"{summary}\n\n{t.text(how, total=total_said)}")


def pay_by_link(
    t: Translator, summary: str, total_said: str, url: str, hold_until: str | None
) -> CallToAction:
    tail = [t.text(phrases.PAY_LINK, total=total_said)]
    if hold_until:
        tail.append(t.text(phrases.PAY_BY, time=hold_until))
    body = f"{summary}\n\n" + " ".join(tail)
    return CallToAction(
        body=cut_body(body, MAX_INTERACTIVE_BODY), display_text=cut(t.text(phrases.BUTTON_PAY), 20), url=url
    )


def pay_in_chat(
    t: Translator,
    summary: str,
    total_said: str,
    *,
    shop_name: str,
    number: str,
    reference_id: str,
    currency: str,
    items: Sequence[tuple[str, str, int, int]],
    total_minor: int,
    hold_until: str | None,
    expires_at: datetime | None,
    payment_configuration: str | None,
    payment_link: str | None,
    catalog_id: str | None,
) -> OrderDetails:
    """WhatsApp's bill (India, Brazil); ``items``: retailer id, title, quantity, unit price."""
    tail = [t.text(phrases.PAY_IN_CHAT, total=total_said)]
    if hold_until:
        tail.append(t.text(phrases.PAY_BY, time=hold_until))
    in_india = currency == "INR"
    return OrderDetails(
        header=cut(t.text(phrases.ORDER_DETAILS_BODY, number=number, shop=shop_name), 60),
        body=cut_body(f"{summary}\n\n" + " ".join(tail), MAX_INTERACTIVE_BODY),
        reference_id=reference_id,
        payment_type="upi" if in_india else "br",
        currency="INR" if in_india else "BRL",
        payment_configuration=payment_configuration if in_india else None,
        payment_settings=()
        if in_india
        else ({"type": "payment_link", "payment_link": {"uri": payment_link}},)
        if payment_link
        else (),
        items=tuple(
            OrderDetailsItem(
                retailer_id=retailer_id,
                name=cut(title, MAX_ORDER_ITEM_NAME),
                amount=Amount(value=unit),
                quantity=quantity,
            )
            for retailer_id, title, quantity, unit in items
        ),
        subtotal=Amount(value=total_minor),
        total=Amount(value=total_minor),
        catalog_id=catalog_id,
        expires_at=int(expires_at.timestamp()) if expires_at else None,
        expiration_description=t.text(phrases.PAYMENT_EXPIRED) if expires_at else None,
    )


def orders_list(
    t: Translator,
    shop_name: str,
    orders: Sequence[tuple[str, str, str, str, str | None]],
    cancellable: Sequence[tuple[str, str]],
) -> Text | ReplyButtons:
    """``orders``: number, placed (said), total (said), status, tracking URL; ``cancellable``:
    (order id, number) of those the customer may still cancel, offered as buttons."""
    if not orders:
        return Text(body=t.text(phrases.ORDERS_NONE, shop=shop_name))
    lines = [t.text(phrases.ORDERS_HEADER)]
    for number, placed, total_said, status, tracking in orders:
        lines.append(
            t.text(
                phrases.ORDER_STATUS_LINE,
                number=number,
                placed=placed,
                total=total_said,
                status=t.text(STATUS_WORDS[status]),
            )
        )
        if tracking:
            lines.append(t.text(phrases.ORDER_TRACKING, url=tracking))
    body = cut_body("\n".join(lines), MAX_INTERACTIVE_BODY)
    if not cancellable:
        return Text(body=body)
    buttons = tuple(
        _button(t, f"{intents.CANCEL_PREFIX}{order_id}", phrases.BUTTON_CANCEL_ORDER, number=number)
        for order_id, number in cancellable[:2]
    )
    return ReplyButtons(body=body, buttons=(*buttons, _button(t, intents.MENU, phrases.BUTTON_MENU)))


def cancel_which(t: Translator, cancellable: Sequence[tuple[str, str]]) -> ReplyButtons:
    buttons = tuple(
        _button(t, f"{intents.CANCEL_PREFIX}{order_id}", phrases.BUTTON_CANCEL_ORDER, number=number)
        for order_id, number in cancellable[:2]
    )
    return ReplyButtons(
        body=t.text(phrases.CANCEL_WHICH),
        buttons=(*buttons, _button(t, f"{intents.CANCEL_PREFIX}{KEEP}", phrases.BUTTON_KEEP_ORDER)),
    )
