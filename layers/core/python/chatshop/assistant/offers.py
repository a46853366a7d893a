"""Offers in the conversation: the customer's explicit opt-in, their opt-out, and the words of both
(pure: the dialogue records the consent and sends the reply).

A customer asks for offers by tapping the opt-in button, and only that; the consent keeps the time
and the words they were shown. "STOP", "baja", "parar", "unsubscribe" (and the like in the four
languages), the opt-out button, or WhatsApp's own "Stop promotions" stop them at once; the
customer is told once (a second STOP changes nothing and says nothing; WhatsApp confirms its own
"Stop promotions" itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.outbound import Button, ReplyButtons, Text

from . import intents
from .i18n import Translator
from .intents import command_of, normalised
from .phrases import N_
from .replies import cut, menu_buttons, price_label
from .views import ProductView

OFFERS_YES = "offers:yes"
OFFERS_NO = "offers:no"
OFFERS_STOP = "offers:stop"

# --- Words ------------------------------------------------------------------------------------------

OFFERS_PROMPT = N_(
    "Would you like {shop} to send you offers and news here on WhatsApp? "
    "You can stop them at any time by writing STOP."
)
OFFERS_PROMPT_SUBSCRIBED = N_(
    "You get offers and news from {shop} here. Tap \u201cStop offers\u201d or write STOP to stop them."
)
BUTTON_OFFERS_YES = N_("Yes, send offers")
BUTTON_OFFERS_NO = N_("No, thanks")
BUTTON_OFFERS_STOP = N_("Stop offers")
OFFERS_ON = N_("Done! {shop} will send you offers here. Write STOP at any time to stop them.")
OFFERS_ALREADY_ON = N_("You already get our offers. Write STOP at any time to stop them.")
OFFERS_DECLINED = N_("No problem: we will not send you offers.")
OFFERS_OFF = N_("You will get no more offers from {shop}. Write \u201coffers\u201d if you change your mind.")
# The welcome menu's footer: where the offers are (at most 60 characters, Meta's footer limit).
# TRANSLATORS: At most 60 characters.
OFFERS_FOOTER = N_("Write \u201coffers\u201d for our deals")

# The first message a shop's wa.me link prefills; ``{code}`` is the link's code, kept as it is.
LINK_GREETING = N_("Hi! I would like to know more. [{code}]")
LINK_GREETING_PRODUCT = N_("Hi! I would like to know more about {title}. [{code}]")
# The greeting of a customer who came from an ad or a link that shows a product of the shop.
REFERRAL_WELCOME = N_("Welcome to {shop}! You asked about {title}: {price}. Tap below to see it, or ask me.")
REFERRAL_WELCOME_NAMED = N_(
    "Hi {name}, welcome to {shop}! You asked about {title}: {price}. Tap below to see it, or ask me."
)
BUTTON_SEE_PRODUCT = N_("See it")

# Whole messages (case, accents and punctuation aside) that stop offers, per language.
_STOP_WORDS = [
    "stop",
    "stop offers",
    "stop promotions",
    "stop messages",
    "unsubscribe",
    "opt out",
    "optout",
    "no more offers",
    "baja",
    "dar de baja",
    "darme de baja",
    "detener",
    "no mas ofertas",
    "cancelar suscripcion",
    "parar",
    "pare",
    "sair",
    "descadastrar",
    "parar ofertas",
    "nao quero mais ofertas",
    "रोकें",
    "रोको",
    "बंद",
    "बंद करो",
    "बंद करें",
    "अनसब्सक्राइब",
]
_OFFERS_WORDS = [
    "offers",
    "offer",
    "deals",
    "promotions",
    "ofertas",
    "oferta",
    "promociones",
    "promocoes",
    "ऑफर",
    "ऑफ़र",
]

OffersKind = Literal["ask", "yes", "no", "stop"]

_TAPS: dict[str, OffersKind] = {OFFERS_YES: "yes", OFFERS_NO: "no", OFFERS_STOP: "stop"}
_PHRASES: dict[str, OffersKind] = {
    **{normalised(words): "stop" for words in _STOP_WORDS},
    **{normalised(words): "ask" for words in _OFFERS_WORDS},
}


@dataclass(frozen=True)
class OffersIntent:
    kind: OffersKind


def intent_of(message: InboundMessage) -> OffersIntent | None:
    """What the message says of offers, or None when it is about something else."""
    kind = command_of(message, _TAPS, _PHRASES)
    return OffersIntent(kind) if kind is not None else None


# --- Replies ----------------------------------------------------------------------------------------


def prompt(t: Translator, shop_name: str, subscribed: bool) -> ReplyButtons:
    shop = cut(shop_name, 100)
    if subscribed:
        return ReplyButtons(
            body=t.text(OFFERS_PROMPT_SUBSCRIBED, shop=shop),
            buttons=(Button(id=OFFERS_STOP, title=t.text(BUTTON_OFFERS_STOP)),),
        )
    return ReplyButtons(
        body=t.text(OFFERS_PROMPT, shop=shop),
        buttons=(
            Button(id=OFFERS_YES, title=t.text(BUTTON_OFFERS_YES)),
            Button(id=OFFERS_NO, title=t.text(BUTTON_OFFERS_NO)),
        ),
    )


def opt_in_words(t: Translator, shop_name: str) -> str:
    """What the customer was shown when they tapped yes: the prompt and the button, as sent."""
    return f"{t.text(OFFERS_PROMPT, shop=cut(shop_name, 100))} [{t.text(BUTTON_OFFERS_YES)}]"


def opted_in(t: Translator, shop_name: str) -> Text:
    return Text(body=t.text(OFFERS_ON, shop=cut(shop_name, 100)))


def already_in(t: Translator) -> Text:
    return Text(body=t.text(OFFERS_ALREADY_ON))


def declined(t: Translator) -> Text:
    return Text(body=t.text(OFFERS_DECLINED))


def opted_out(t: Translator, shop_name: str) -> Text:
    return Text(body=t.text(OFFERS_OFF, shop=cut(shop_name, 100)))


def link_greeting(t: Translator, product_title: str | None) -> str:
    """A link's prefilled first message, with ``{code}`` left for the link's code."""
    if product_title:
        return t.text(LINK_GREETING_PRODUCT, title=cut(product_title, 80), code="{code}")
    return t.text(LINK_GREETING, code="{code}")


def referral_welcome(
    t: Translator, shop_name: str, customer_name: str | None, product: ProductView
) -> ReplyButtons:
    """The first answer to a customer who came from an ad or link showing ``product``: the welcome,
    naming it with its price, and a button to see it beside the menu's."""
    params = {"shop": cut(shop_name, 100), "title": cut(product.title, 80), "price": price_label(t, product)}
    if customer_name:
        body = t.text(REFERRAL_WELCOME_NAMED, name=cut(customer_name, 60), **params)
    else:
        body = t.text(REFERRAL_WELCOME, **params)
    see = Button(id=f"{intents.SHOW_PREFIX}{product.id}", title=t.text(BUTTON_SEE_PRODUCT))
    return ReplyButtons(body=body, buttons=(see, *menu_buttons(t)[:2]))
