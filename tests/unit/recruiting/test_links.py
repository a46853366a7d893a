"""wa.me links and their QR codes (pure)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from chatshop.recruiting.links import new_code, qr_png, wa_me_url
from chatshop.recruiting.sources import CODE_ALPHABET, CODE_LENGTH, link_code_in


def test_a_wa_me_link_carries_the_number_in_digits_and_the_message_encoded():
    url = wa_me_url("+1 (555) 444-7777", "¡Hola! Quisiera saber más sobre Café & Té. [K7QM2ZPA]")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("wa.me", "/15554447777")
    text = parse_qs(parts.query)["text"][0]
    assert text == "¡Hola! Quisiera saber más sobre Café & Té. [K7QM2ZPA]"
    assert link_code_in(text) == "K7QM2ZPA"


def test_codes_are_drawn_from_an_alphabet_without_look_alikes():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("01IOL") & set(CODE_ALPHABET)


def test_the_qr_code_is_a_png_that_grows_with_the_url():
    short, long = qr_png("https://wa.me/1"), qr_png("https://wa.me/15554447777?text=" + "x" * 300)
    assert short.startswith(b"\x89PNG\r\n\x1a\n") and long.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(short[16:20], "big")
    assert width > 100 and int.from_bytes(long[16:20], "big") > width
