"""Per-function environment variables for functions that share one process.

On AWS every function has its own sandbox and its own ``os.environ``. Locally many functions run in
one process, so ``os.environ`` is replaced by a mapping that shows each invocation the environment of
the function it belongs to. The overlay is context-local (a ``ContextVar``): concurrent invocations of
different functions on different threads each see their own variables, and code outside any function
sees the process environment unchanged.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextvars import ContextVar

_active: ContextVar[dict[str, str] | None] = ContextVar("chatshop_function_environ", default=None)


class LayeredEnviron(MutableMapping[str, str]):
    """``os.environ`` that defers to the active function's variables when one is active."""

    def __init__(self, process_environ: MutableMapping[str, str]) -> None:
        self._process = process_environ

    def _current(self) -> MutableMapping[str, str]:
        overlay = _active.get()
        return self._process if overlay is None else overlay

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())

    @property
    def process_environ(self) -> MutableMapping[str, str]:
        return self._process


def install() -> None:
    """Replace ``os.environ`` once; idempotent. Call before functions are imported."""
    if not isinstance(os.environ, LayeredEnviron):
        # Replacing, not clearing, is the point: the process environment lives on beneath the layer.
        os.environ = LayeredEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003


def process_environ() -> MutableMapping[str, str]:
    environ = os.environ
    return environ.process_environ if isinstance(environ, LayeredEnviron) else environ


@contextlib.contextmanager
def function_environ(variables: dict[str, str]) -> Iterator[None]:
    """Make ``variables`` the whole environment seen by this context until the block ends.

    The dict is used as is, not copied: what a function writes into its environment stays with that
    function, as it would in its own sandbox.
    """
    install()
    token = _active.set(variables)
    try:
        yield
    finally:
        _active.reset(token)


def build_function_environ(base: Mapping[str, str], *layers: Mapping[str, str]) -> dict[str, str]:
    merged = dict(base)
    for layer in layers:
        merged.update(layer)
    return merged
