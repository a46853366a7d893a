"""Lists of ad positions, as the snapshot stores them and as decisions walk them.

An index of the snapshot (ads by country and placement, by word, by category) names each ad by its
position in the snapshot's table of ads. In the object a list is packed as little-endian unsigned
integers, base64 in the JSON: a (country, placement)'s list in eCPM order as positions, and its word
and category lists, which keep that order, as the differences of their ranks in it (ascending, so
mostly small: one or two bytes each, which compress well). A decoded snapshot unpacks a list only
when a decision first looks it up: a decision touches a few of the tens of thousands a region has.
"""

from __future__ import annotations

import binascii
import sys
from array import array
from collections.abc import Callable, Hashable, Iterator, Sequence
from itertools import accumulate, chain
from operator import sub
from typing import Generic, TypeVar

_TYPECODE = "I" if array("I").itemsize == 4 else "L"
_SWAP = sys.byteorder == "big"

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

Positions = Sequence[int]


def _text(values: array) -> str:
    if _SWAP:
        values.byteswap()
    return binascii.b2a_base64(values.tobytes(), newline=False).decode("ascii")


def _values(typecode: str, text: str) -> array:
    values = array(typecode)
    values.frombytes(binascii.a2b_base64(text))
    if _SWAP:
        values.byteswap()
    return values


def pack(positions: Positions) -> str:
    return _text(array(_TYPECODE, positions))


def unpack(text: str) -> array:
    return _values(_TYPECODE, text)


def pack_ranks(ranks: Sequence[int]) -> str:
    """Ascending ranks as the type code of their widest difference and the differences, packed."""
    deltas = array(_TYPECODE, map(sub, ranks, chain((0,), ranks)))
    widest = max(deltas, default=0)
    typecode = "B" if widest < 1 << 8 else "H" if widest < 1 << 16 else _TYPECODE
    return typecode + _text(array(typecode, deltas) if typecode != _TYPECODE else deltas)


def unpack_ranks(text: str) -> Iterator[int]:
    return accumulate(_values(text[0], text[1:]))


def positions(given: list[int] | str) -> Positions:
    """A list of positions, given as it is or packed."""
    return unpack(given) if isinstance(given, str) else given


def ranked_positions(ranked: Positions, ranks: list[int] | str) -> Positions:
    """The positions at ``ranks`` (given as they are or packed) in ``ranked``."""
    return array(_TYPECODE, map(ranked.__getitem__, unpack_ranks(ranks) if isinstance(ranks, str) else ranks))


def pack_floats(values: Sequence[float]) -> str:
    return _text(array("d", values))


def unpack_floats(text: str) -> array:
    return _values("d", text)


class Postings(Generic[K]):
    """Lists by key, each kept as given (a list, or its packed text) and made into positions by
    ``resolve`` on its first lookup."""

    __slots__ = ("_given", "_resolved", "_resolve")

    def __init__(
        self, given: dict[K, list[int] | str], resolve: Callable[[list[int] | str], Positions]
    ) -> None:
        self._given = given
        self._resolved: dict[K, Positions] = {}
        self._resolve = resolve

    def get(self, key: K) -> Positions:
        found = self._resolved.get(key)
        if found is None:
            given = self._given.get(key)
            if given is None:
                return ()
            found = self._resolved[key] = self._resolve(given)
        return found

    @property
    def given(self) -> dict[K, list[int] | str]:
        return self._given

    def packed(self, packing: Callable[[list[int]], str]) -> dict[K, str]:
        """Every list as text: those given packed as they are, the others by ``packing``."""
        return {
            key: given if isinstance(given, str) else packing(given) for key, given in self._given.items()
        }


class Resolved(Sequence[T]):
    """A list of positions read as the items at them (``item(position)``), best first as stored."""

    __slots__ = ("_item", "_positions")

    def __init__(self, item: Callable[[int], T], positions: Positions) -> None:
        self._item = item
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return Resolved(self._item, self._positions[index])
        return self._item(self._positions[index])

    def __iter__(self) -> Iterator[T]:
        return map(self._item, self._positions)

    def __repr__(self) -> str:
        return f"Resolved({len(self)} items)"
