"""A customer's own data in the conversation: "export my data" and "delete my data", each confirmed
with a button before anything is filed (pure: the dialogue files the request and sends the reply).

The request is the same one a merchant files for a customer through the API
(``chatshop.privacy.service.PrivacyDesk``): an export's link comes back in this chat when it is
ready; an erasure is told before it runs, since nothing may be written about the customer after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from chatshop.messaging.inbound import InboundMessage
from chatshop.messaging.outbound import Button, ReplyButtons, Text

from .i18n import Translator
from .intents import command_of, normalised
from .phrases import N_

DATA_EXPORT = "data:export"
DATA_ERASE = "data:erase"
DATA_KEEP = "data:keep"

# --- Words ------------------------------------------------------------------------------------------

EXPORT_PROMPT = N_(
    "Get a copy of everything this shop keeps about you (messages, photos, orders, ad preferences)? "
    "A link to download it comes here when it is ready; it works for 24 hours."
)
ERASE_PROMPT = N_(
    "Delete everything this shop keeps about you: messages, photos, cart and ad preferences? Your "
    "orders stay in the shop's accounts, without your name or number. This cannot be undone."
)
BUTTON_EXPORT = N_("Send my copy")
BUTTON_ERASE = N_("Delete my data")
BUTTON_DATA_KEEP = N_("Not now")
EXPORT_STARTED = N_("We are preparing your copy; the link will come here shortly.")
ERASE_STARTED = N_("We are deleting your data now. This is our last message, unless you write to us again.")
DATA_KEPT = N_("Nothing was changed.")
EXPORT_READY = N_("Your copy is ready: {link}\nThe link works until {until}.")

_EXPORT_WORDS = [
    "export my data",
    "download my data",
    "send me my data",
    "my data",
    "get my data",
    "a copy of my data",
    "exportar mis datos",
    "descargar mis datos",
    "mis datos",
    "exportar meus dados",
    "baixar meus dados",
    "meus dados",
    "मेरा डेटा निर्यात करें",
    "मेरा डेटा डाउनलोड करें",
    "मेरा डेटा भेजें",
    "मेरा डेटा",
]
_ERASE_WORDS = [
    "delete my data",
    "erase my data",
    "remove my data",
    "forget me",
    "delete everything about me",
    "borrar mis datos",
    "eliminar mis datos",
    "olvidame",
    "apagar meus dados",
    "excluir meus dados",
    "esquecer meus dados",
    "मेरा डेटा हटाएं",
    "मेरा डेटा हटाओ",
    "मेरा डेटा मिटाएं",
    "मेरा डेटा डिलीट करें",
]

DataRequestKind = Literal["ask_export", "ask_erase", "export", "erase", "keep"]

_TAPS: dict[str, DataRequestKind] = {DATA_EXPORT: "export", DATA_ERASE: "erase", DATA_KEEP: "keep"}
_PHRASES: dict[str, DataRequestKind] = {
    **{normalised(words): "ask_export" for words in _EXPORT_WORDS},
    **{normalised(words): "ask_erase" for words in _ERASE_WORDS},
}


@dataclass(frozen=True)
class DataRequestIntent:
    kind: DataRequestKind


def intent_of(message: InboundMessage) -> DataRequestIntent | None:
    """What the message says of the customer's data, or None when it is about something else."""
    kind = command_of(message, _TAPS, _PHRASES)
    return DataRequestIntent(kind) if kind is not None else None


# --- Replies ----------------------------------------------------------------------------------------


def prompt(t: Translator, kind: Literal["export", "erase"]) -> ReplyButtons:
    confirm = Button(id=DATA_EXPORT, title=t.text(BUTTON_EXPORT))
    if kind == "erase":
        confirm = Button(id=DATA_ERASE, title=t.text(BUTTON_ERASE))
    return ReplyButtons(
        body=t.text(EXPORT_PROMPT if kind == "export" else ERASE_PROMPT),
        buttons=(confirm, Button(id=DATA_KEEP, title=t.text(BUTTON_DATA_KEEP))),
    )


def started(t: Translator, kind: Literal["export", "erase"]) -> Text:
    return Text(body=t.text(EXPORT_STARTED if kind == "export" else ERASE_STARTED))


def kept(t: Translator) -> Text:
    return Text(body=t.text(DATA_KEPT))


def export_ready(t: Translator, link: str, until: datetime) -> Text:
    from babel.dates import format_datetime

    # The customer's time zone is not known: the time is shown in UTC, and says so.
    shown = format_datetime(until, format="long", tzinfo=UTC, locale=t.locale)
    return Text(body=t.text(EXPORT_READY, link=link, until=shown))
