"""The language a customer writes in, when a message says it clearly enough to switch to it.

:func:`detect` answers one of :data:`chatshop.assistant.i18n.LANGUAGES` or None, and None is the
common answer: "ok", "M", "42", a thumbs-up, a product name or a language the assistant does not
speak tell nothing, and the caller keeps the conversation's language (or the shop's). A wrong
answer costs more than none: the customer would be answered in a language they did not write.

In order:

1. Devanagari letters are Hindi (the one language of that script the assistant speaks).
2. A whole message that is a greeting or a thanks ("hola", "olá", "oi", "obrigado", "namaste") is
   looked up in a table: a statistical detector is unreliable on one word ("hello" comes out as
   Spanish), and these are the first messages of a conversation.
3. Hindi written in Latin letters ("kya aapke paas jacket hai"), Italian, French and German are
   recognised by their common words and left undecided: lingua's Hindi model reads Devanagari only
   and takes romanised Hindi for English, and it takes the others for a language it was given.
4. Anything longer goes to lingua (English, Spanish, Portuguese, Hindi; built once, on first use:
   its models take about half a second and 100 MB to load). Its answer counts when the message has
   :data:`MIN_WORDS` words and :data:`MIN_LETTERS` letters, its confidence clears
   :data:`MIN_CONFIDENCE`, and the message holds a common word of that language and none that only
   another of the three has. Without that check lingua, choosing among four, calls French English
   and Turkish Spanish at 0.9.
5. Where lingua is sure the message is Spanish or Portuguese but not which (short messages share
   most words: "me gusta el segundo" is 0.54 Portuguese), a word only one of them has decides.

The thresholds were measured on the labelled messages of tests/unit/assistant/test_language.py.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

# A message shorter than this is left to the table: lingua guesses at single words.
MIN_WORDS = 2
MIN_LETTERS = 8
# lingua's confidence in its top language. On the labelled messages its wrong answers (Spanish taken
# for Portuguese and back) reached 0.59, and nearly every right one is above 0.8.
MIN_CONFIDENCE = 0.6
# lingua's confidence that a message is Spanish or Portuguese, for the words to pick which.
MIN_IBERIAN_CONFIDENCE = 0.8


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(language: str, phrases: str) -> dict[str, str]:
    return dict.fromkeys(phrases.split("|"), language)


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")

# Whole messages, accents as written: "ola" is left out on purpose (Portuguese without its accent,
# and the most common misspelling of Spanish "hola").
_PHRASES: dict[str, str] = {
    **_phrases(
        "en",
        "hi|hello|hey|hiya|hello there|hi there|good morning|good afternoon|good evening|thanks|thank you|"
        "thank you so much|thanks a lot|many thanks|goodbye|bye|help|price",
    ),
    **_phrases(
        "es",
        "hola|holaa|buenas|buenos días|buenos dias|buen día|buen dia|buenas tardes|buenas noches|hola buenas|"
        "hola buenos días|hola buenos dias|hola buenas tardes|hola buenas noches|qué tal|gracias|"
        "muchas gracias|mil gracias|adiós|adios|precio|ayuda|saludos",
    ),
    **_phrases(
        "pt_BR",
        "olá|oi|oie|oii|oi tudo bem|olá tudo bem|tudo bem|bom dia|boa tarde|boa noite|obrigado|obrigada|"
        "muito obrigado|muito obrigada|valeu|tchau|preço|ajuda",
    ),
    **_phrases("hi", "namaste|namaskar|namastey|dhanyavaad|dhanyavad|dhanyawad|shukriya"),
}

# Frequent words of languages the assistant does not speak, that none of English, Spanish or
# Portuguese has as a word: Hindi written in Latin letters ("kya aapke paas jacket hai": lingua's
# Hindi reads Devanagari only, and takes it for English at 0.95), and the languages nearest to
# Spanish and Portuguese, which lingua, choosing among four, takes for one of them.
_NOT_SPOKEN = _words(
    # Hindi in Latin letters
    "kya kyaa hai hain mujhe muje chahiye chahie aapke apke aapka apka aap kitne kitna kitni kab iska "
    "iski uska nahi nahin bhaiya bhai kaise kaisa karo karna dijiye batao bataiye mera meri hoga "
    "milega theek thik yaar wala wali "
    # Italian
    "questo questa quello quella avete vorrei ciao grazie buongiorno della delle gli perché anche "
    "molto "
    # French
    "je vous avez est une pour avec bonjour merci combien cette voudrais oui très "
    # German
    "ich sie und ist nicht haben bitte danke hallo guten wie viel kostet der"
)

# Short words of each language that nearly every chat message has (function words, greetings).
# lingua's answer counts only for a message with one of its language's words; a word that only one
# of the three has is the evidence that tells Spanish from Portuguese when lingua cannot.
_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "a an the is are am was be do does did have has i you we it this that these those my your "
        "me of for to in on at with and or but not can could would will how what which when where who "
        "there any some want need like please yes hi hello hey thanks thank sorry"
    ),
    "es": _words(
        "el la los las un una unos unas es son está están estoy hay tienen tiene tienes tengo quiero "
        "quisiera busco puedo puedes me te nos mi mis tu su de del da a al en con para por y o pero no "
        "sí qué que cuánto cuanto cuánta cuál cual cuándo cuando dónde donde como cómo lo le les este "
        "esta ese esa hacen aceptan muy ya aquí porfa oye hola buenas buenos buen gracias"
    ),
    "pt_BR": _words(
        "o a os as um uma uns umas é são está estão estou tem têm tenho quero queria procuro posso "
        "pode me te tu nos meu minha meus minhas seu sua de do da dos das em no na nas com para por e "
        "ou não sim que quanto quanta qual quando onde como você vocês voces voce isso isto esse essa "
        "este esta tô to tá até pra pro pelo pela já aqui fazem aceitam muito oi olá bom boa obrigado "
        "obrigada valeu"
    ),
}
_OWN: dict[str, frozenset[str]] = {
    language: words.difference(*(other for code, other in _WORDS.items() if code != language))
    for language, words in _WORDS.items()
}
_IBERIAN = ("es", "pt_BR")


def detect(text: str) -> str | None:
    """The customer's language ("en", "es", "pt_BR", "hi") when the message says it confidently,
    else None, for the caller to keep the conversation's or the shop's."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    if any(_devanagari(ch) for ch in letters):
        return "hi"
    if sum(_latin(ch) for ch in letters) * 2 < len(letters):
        return None  # another script: Cyrillic, Arabic, Han... none the assistant speaks
    words = _WORD.findall(unicodedata.normalize("NFC", text.casefold()))
    phrase = " ".join(words)
    if phrase in _PHRASES:
        return _PHRASES[phrase]
    found = set(words)
    if found & _NOT_SPOKEN:
        return None
    if len(words) < MIN_WORDS or len(letters) < MIN_LETTERS:
        return None
    owners = [language for language, own in _OWN.items() if found & own]
    if len(owners) > 1:
        return None  # words only English has next to words only Spanish has: mixed, or neither
    confidence = _confidences(text)
    top = max(confidence, key=confidence.__getitem__)
    if confidence[top] >= MIN_CONFIDENCE and found & _WORDS.get(top, frozenset()) and owners in ([], [top]):
        return top
    # Spanish and Portuguese share most short words, and lingua splits its confidence between them
    # on a short message ("me gusta el segundo" is 0.54 Portuguese): when it is sure the message is
    # one of the two, the words that only one of them has decide.
    iberian = sum(confidence[language] for language in _IBERIAN)
    if iberian >= MIN_IBERIAN_CONFIDENCE and owners and owners[0] in _IBERIAN:
        return owners[0]
    return None


def _devanagari(ch: str) -> bool:
    return "\u0900" <= ch <= "\u097f" or "\ua8e0" <= ch <= "\ua8ff"


def _latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN ")


def _confidences(text: str) -> dict[str, float]:
    detector, codes = _detector()
    confidence = dict.fromkeys(codes.values(), 0.0)
    for value in detector.compute_language_confidence_values(text):
        confidence[codes[value.language]] = value.value
    return confidence


@cache
def _detector() -> tuple[Any, dict[Any, str]]:
    # Deferred: lingua's models are loaded by the first message that needs them, never by an import.
    from lingua import Language, LanguageDetectorBuilder

    codes = {
        Language.ENGLISH: "en",
        Language.SPANISH: "es",
        Language.PORTUGUESE: "pt_BR",
        Language.HINDI: "hi",
    }
    detector = LanguageDetectorBuilder.from_languages(*codes).build()
    return detector, codes
