"""Personalised ads in the conversation: the customer asks to stop them or to have them, confirms with
a button, and is told what changed (pure: the dialogue records the consent and sends the reply).

Asking is never the choice itself: "stop personalised ads" is answered with what stopping means and
a button to confirm it, "personalise my ads" with what consent means and a button to give it, so
the record holds the sentence the customer answered and the button they tapped, in their language
(GDPR Art. 7(1)), and withdrawing takes the same two steps as giving (Art. 7(3)). The consent is
recorded through the same store and log as the API's (``chatshop.privacy.chat``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.outbound import Button, ReplyButtons, Text

from .i18n import Translator
from .intents import command_of, normalised
from .phrases import N_

ADS_ON = "ads:personalise"
ADS_OFF = "ads:stop"
ADS_KEEP = "ads:keep"

# --- Words ------------------------------------------------------------------------------------------

ADS_ON_PROMPT = N_(
    "Shall we personalise the ads you see in our marketplace from what you do here (your questions "
    "and orders)? You can stop it at any time by writing \u201cstop personalised ads\u201d."
)
ADS_OFF_PROMPT = N_(
    "Stop personalising your ads? The interests kept from what you did are deleted at once, and the "
    "ads you see will depend only on what you search or look at."
)
BUTTON_ADS_ON = N_("Yes, personalise")
BUTTON_ADS_OFF = N_("Stop personalising")
BUTTON_ADS_KEEP = N_("Leave it as it is")
ADS_ON_DONE = N_(
    "Done: your ads will be personalised from what you do here. "
    "Write \u201cstop personalised ads\u201d at any time to stop it."
)
ADS_OFF_DONE = N_(
    "Done: your ads are no longer personalised, and the interests kept were deleted. "
    "Write \u201cpersonalise my ads\u201d if you change your mind."
)
ADS_KEPT = N_("Nothing changed.")

# Whole messages (case, accents and punctuation aside) per language.
_OFF_WORDS = [
    "stop personalised ads",
    "stop personalized ads",
    "stop personalising my ads",
    "stop personalizing my ads",
    "stop personalising ads",
    "stop personalizing ads",
    "no personalised ads",
    "no personalized ads",
    "don't personalise my ads",
    "don't personalize my ads",
    "no personalizar anuncios",
    "no personalizar mis anuncios",
    "dejar de personalizar anuncios",
    "parar anuncios personalizados",
    "sin anuncios personalizados",
    "no quiero anuncios personalizados",
    "parar de personalizar anuncios",
    "nao personalizar anuncios",
    "nao personalizar meus anuncios",
    "sem anuncios personalizados",
    "nao quero anuncios personalizados",
    "व्यक्तिगत विज्ञापन बंद करें",
    "व्यक्तिगत विज्ञापन बंद करो",
    "पर्सनलाइज़्ड विज्ञापन बंद करें",
    "विज्ञापन निजीकरण बंद करें",
]
_ON_WORDS = [
    "personalise my ads",
    "personalize my ads",
    "personalise ads",
    "personalize ads",
    "personalised ads",
    "personalized ads",
    "personalizar mis anuncios",
    "personalizar anuncios",
    "anuncios personalizados",
    "personalizar meus anuncios",
    "व्यक्तिगत विज्ञापन",
    "मेरे विज्ञापन व्यक्तिगत करें",
    "विज्ञापन व्यक्तिगत करें",
    "विज्ञापन पर्सनलाइज़ करें",
]

AdConsentKind = Literal["ask_on", "ask_off", "on", "off", "keep"]

_TAPS: dict[str, AdConsentKind] = {ADS_ON: "on", ADS_OFF: "off", ADS_KEEP: "keep"}
_PHRASES: dict[str, AdConsentKind] = {
    **{normalised(words): "ask_off" for words in _OFF_WORDS},
    **{normalised(words): "ask_on" for words in _ON_WORDS},
}


@dataclass(frozen=True)
class AdConsentIntent:
    kind: AdConsentKind


def intent_of(message: InboundMessage) -> AdConsentIntent | None:
    """What the message says of personalised ads, or None when it is about something else."""
    kind = command_of(message, _TAPS, _PHRASES)
    return AdConsentIntent(kind) if kind is not None else None


# --- Replies ----------------------------------------------------------------------------------------


def prompt_on(t: Translator) -> ReplyButtons:
    return ReplyButtons(
        body=t.text(ADS_ON_PROMPT),
        buttons=(
            Button(id=ADS_ON, title=t.text(BUTTON_ADS_ON)),
            Button(id=ADS_KEEP, title=t.text(BUTTON_ADS_KEEP)),
        ),
    )


def prompt_off(t: Translator) -> ReplyButtons:
    return ReplyButtons(
        body=t.text(ADS_OFF_PROMPT),
        buttons=(
            Button(id=ADS_OFF, title=t.text(BUTTON_ADS_OFF)),
            Button(id=ADS_KEEP, title=t.text(BUTTON_ADS_KEEP)),
        ),
    )


def wording(t: Translator, kind: Literal["on", "off"]) -> str:
    """What the customer answered when they tapped: the prompt and the button, as sent."""
    if kind == "on":
        return f"{t.text(ADS_ON_PROMPT)} [{t.text(BUTTON_ADS_ON)}]"
    return f"{t.text(ADS_OFF_PROMPT)} [{t.text(BUTTON_ADS_OFF)}]"


def done(t: Translator, kind: Literal["on", "off"]) -> Text:
    return Text(body=t.text(ADS_ON_DONE if kind == "on" else ADS_OFF_DONE))


def kept(t: Translator) -> Text:
    return Text(body=t.text(ADS_KEPT))
