"""Signed ad event tokens: what an impression or click URL carries, so the event route trusts nothing else.

A token is ``<kind><base64url(payload || mac)>``: the kind letter (``i`` impression, ``c`` click) in
the clear so the event route can answer a forged token the way it answers a real one of that kind
(a bot learns nothing from the answer), and inside the payload again, where it is signed. The
payload is packed binary rather than JSON to keep URLs short: a version, the key id, the kind, the
expiry (epoch seconds), the price of this event, the frequency-cap window the decision already
reserved this impression in (none, hour, day, week), then the decision, campaign and ad ids, the user
key, the ad's category, its destination and the region that minted it as length-prefixed strings
(hex ids packed as bytes). The MAC is HMAC-SHA256 truncated to 128 bits, which leaves forgery at
2^-128 a try.

The minting region is signed in because nothing stops two regions from holding the same keyring (the
local stacks do, and a deployment may copy one SSM parameter everywhere), while an event is personal
data of the user the decision was made for, in their home region: the event route of any other
region verifies the token, counts nothing for it and sends a click on to the minting region.

A reserved impression was counted against the user's cap when the decision chose it (a conditional
update, so a burst of decisions never passes the cap); the event worker then leaves that window's
counter alone, so the impression is not counted twice.

Prices are in thousandths of the campaign currency's minor unit ("milli-minor"): a CPM ad's
impression costs its CPM in minor units divided by 1,000, which is rarely a whole cent, and the
spend counters must add up exactly. ``price_milli`` is what this event charges; the decision code
puts the price on the event its bid is for (the impression of a CPM ad, the click of a CPC ad) and 0
on the other.

Keys come as a keyring (:class:`EventKeys`): the first key signs, every key verifies, so a key can
be rotated without breaking the URLs of the last 24 hours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "CLICK",
    "IMPRESSION",
    "TOKEN_TTL",
    "EventClaim",
    "EventKeys",
    "InvalidKeyring",
    "cpc_price_milli",
    "cpm_price_milli",
    "kind_hint",
    "sign_event",
    "verify",
]

EventKind = Literal["impression", "click"]
IMPRESSION: EventKind = "impression"
CLICK: EventKind = "click"
TOKEN_TTL = timedelta(hours=24)

# Version 2 added the minting region, 3 the reserved cap window; an older token (none outlives 24
# hours) no longer verifies.
_VERSION = 3
_STRINGS = 7
_KIND_LETTERS: dict[str, EventKind] = {"i": IMPRESSION, "c": CLICK}
_LETTERS = {kind: letter for letter, kind in _KIND_LETTERS.items()}
_HEADER = struct.Struct(">BBcIIB")  # version, key id, kind letter, expiry, price_milli, reserved
_WINDOWS: tuple[str | None, ...] = (None, "hour", "day", "week")
_MAC_BYTES = 16
_MAX_PRICE_MILLI = 2**32 - 1
_HEX = re.compile(r"(?:[0-9a-f]{2})+")
# A token is never longer than this; anything longer is not worth decoding.
MAX_TOKEN_CHARS = 1024


@dataclass(frozen=True)
class EventClaim:
    """What a valid token says happened: this ad of this decision was seen (or clicked) by this user."""

    kind: EventKind
    decision_id: str
    campaign_id: str
    ad_id: str
    user_key: str | None
    price_milli: int
    expires_at: int  # epoch seconds
    category: str | None = None
    destination: str | None = None
    region: str = ""  # the region whose decision minted it, the only one that counts it
    reserved: str | None = None  # the cap window the decision counted this impression in already

    @property
    def event_id(self) -> str:
        """One id per (decision, ad, kind): an impression counts once, a click once per impression."""
        material = "\x1f".join((self.decision_id, self.campaign_id, self.ad_id, self.kind))
        return hashlib.sha256(material.encode()).hexdigest()[:32]


class InvalidKeyring(ValueError):
    pass


@dataclass(frozen=True)
class EventKeys:
    """The signing keyring: ``keys[0]`` signs, all of them verify."""

    keys: tuple[tuple[int, bytes], ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise InvalidKeyring("the keyring is empty")
        for key_id, secret in self.keys:
            if not 0 <= key_id <= 255:
                raise InvalidKeyring("a key id is between 0 and 255")
            if len(secret) < 16:
                raise InvalidKeyring("an event key is at least 16 bytes")

    @classmethod
    def parse(cls, text: str) -> EventKeys:
        """``"<id>:<secret>[,<id>:<secret>...]"``, the current key first (the form kept in SSM)."""
        keys: list[tuple[int, bytes]] = []
        for part in (p.strip() for p in text.replace("\n", ",").split(",")):
            if not part:
                continue
            key_id, sep, secret = part.partition(":")
            if not sep or not key_id.strip().isdigit():
                raise InvalidKeyring("each key is written <id>:<secret>")
            keys.append((int(key_id), secret.strip().encode()))
        return cls(tuple(keys))

    def secret(self, key_id: int) -> bytes | None:
        for known_id, secret in self.keys:
            if known_id == key_id:
                return secret
        return None


def cpm_price_milli(cpm_minor: int) -> int:
    """An impression's price at ``cpm_minor`` minor units per thousand impressions."""
    return cpm_minor


def cpc_price_milli(cpc_minor: int) -> int:
    """A click's price at ``cpc_minor`` minor units a click."""
    return cpc_minor * 1000


def sign_event(
    keys: EventKeys,
    *,
    kind: EventKind,
    decision_id: str,
    campaign_id: str,
    ad_id: str,
    user_key: str | None,
    price_milli: int,
    now: datetime,
    region: str,
    category: str | None = None,
    destination: str | None = None,
    reserved: str | None = None,
) -> str:
    """The token of one event of one ad of one decision made in ``region``, valid for 24 hours from
    ``now``."""
    if kind not in _LETTERS:
        raise ValueError(f"unknown event kind {kind!r}")
    if not 0 <= price_milli <= _MAX_PRICE_MILLI:
        raise ValueError("price_milli is out of range")
    if destination is not None and not _is_web_url(destination):
        raise ValueError("an ad's destination is an http(s) URL")
    if not region:
        raise ValueError("a token names the region that minted it")
    if reserved not in _WINDOWS or (reserved is not None and kind != IMPRESSION):
        raise ValueError("only an impression is reserved, in an hour, day or week window")
    key_id, secret = keys.keys[0]
    expires_at = int((now + TOKEN_TTL).timestamp())
    header = (_VERSION, key_id, _LETTERS[kind].encode(), expires_at, price_milli, _WINDOWS.index(reserved))
    payload = bytearray(_HEADER.pack(*header))
    for value in (
        decision_id,
        campaign_id,
        ad_id,
        user_key or "",
        category or "",
        destination or "",
        region,
    ):
        payload += _pack_string(value)
    mac = hmac.new(secret, bytes(payload), hashlib.sha256).digest()[:_MAC_BYTES]
    return _LETTERS[kind] + base64.urlsafe_b64encode(bytes(payload) + mac).rstrip(b"=").decode()


def verify(keys: EventKeys, token: str, now: datetime) -> EventClaim | None:
    """The claim of a genuine, unexpired token; None for anything else (forged, altered, expired,
    malformed, signed by a key no longer in the ring). Replays are the event store's to refuse."""
    if not token or len(token) > MAX_TOKEN_CHARS or token[0] not in _KIND_LETTERS:
        return None
    body = token[1:]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < _HEADER.size + _MAC_BYTES:
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    version, key_id, letter, expires_at, price_milli, reserved = _HEADER.unpack_from(payload)
    secret = keys.secret(key_id)
    if version != _VERSION or secret is None:
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        return None
    # Past the MAC the payload is ours; still parsed defensively, as a bug must not become a 500.
    try:
        kind = _KIND_LETTERS[letter.decode()]
        strings, offset = [], _HEADER.size
        for _ in range(_STRINGS):
            value, offset = _unpack_string(payload, offset)
            strings.append(value)
    except (KeyError, ValueError, IndexError, UnicodeDecodeError):
        return None
    if offset != len(payload) or _LETTERS[kind] != token[0] or reserved >= len(_WINDOWS):
        return None
    if expires_at <= now.timestamp():
        return None
    decision_id, campaign_id, ad_id, user_key, category, destination, region = strings
    return EventClaim(
        kind=kind,
        decision_id=decision_id,
        campaign_id=campaign_id,
        ad_id=ad_id,
        user_key=user_key or None,
        price_milli=price_milli,
        expires_at=expires_at,
        category=category or None,
        destination=destination or None,
        region=region,
        reserved=_WINDOWS[reserved],
    )


def kind_hint(token: str) -> EventKind:
    """The kind a token says it is, signed or not: what the answer to a forged token looks like."""
    return CLICK if token[:1] == "c" else IMPRESSION


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("https", "http") and bool(parts.hostname) and not parts.username


def _pack_string(value: str) -> bytes:
    # A varint of (length << 1 | hex flag): a hex id travels as bytes, half its length.
    if _HEX.fullmatch(value):
        data, flag = bytes.fromhex(value), 1
    else:
        data, flag = value.encode(), 0
    return _varint(len(data) << 1 | flag) + data


def _unpack_string(payload: bytes, offset: int) -> tuple[str, int]:
    header, offset = _read_varint(payload, offset)
    length, is_hex = header >> 1, header & 1
    end = offset + length
    if end > len(payload):
        raise ValueError("string runs past the payload")
    data = payload[offset:end]
    return (data.hex() if is_hex else data.decode()), end


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(payload: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if shift > 28:
            raise ValueError("varint too long")
        byte = payload[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
