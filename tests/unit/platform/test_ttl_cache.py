"""The expiring cache, on a clock the test moves by hand."""

from __future__ import annotations

from chatshop.platform.ttl_cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_for_its_ttl_and_no_longer():
    clock = Clock()
    cache: TTLCache[str] = TTLCache(maxsize=10, ttl_s=60, clock=clock)
    cache.put("key", "value")
    clock.now = 59.9
    assert cache.get("key") == "value"
    clock.now = 60.0
    assert cache.get("key") is None


def test_the_least_recently_used_entry_goes_first_when_full():
    cache: TTLCache[int] = TTLCache(maxsize=2, ttl_s=60, clock=Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_discard_forgets_at_once():
    cache: TTLCache[int] = TTLCache(maxsize=2, ttl_s=60, clock=Clock())
    cache.put("a", 1)
    cache.discard("a")
    cache.discard("never there")
    assert cache.get("a") is None
