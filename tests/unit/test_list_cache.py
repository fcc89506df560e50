"""The ``list`` answer cache: when it answers from memory and when it must ask again."""

from __future__ import annotations

from typing import Any

from tocsin.domain.model import Incident
from tocsin.services.list_cache import ListCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Source:
    """Counts loads and marker reads; the marker is whatever the test sets."""

    def __init__(self) -> None:
        self.loads = 0
        self.marks = 0
        self.mark: Any = 1

    async def load(self) -> list[Incident]:
        self.loads += 1
        return []

    async def marker(self) -> Any:
        self.marks += 1
        return self.mark


async def test_a_second_list_is_answered_from_memory() -> None:
    """Two lists in a row with nothing changed: one load, and the marker read once."""
    source, clock = Source(), Clock()
    cache = ListCache(source.marker, clock=clock)
    await cache.get("open", source.load)
    await cache.get("open", source.load)
    assert (source.loads, source.marks) == (1, 1)


async def test_a_commit_in_this_process_drops_answers_at_once() -> None:
    """``invalidate`` (the on_commit hook) makes the very next list load again."""
    source = Source()
    cache = ListCache(source.marker, clock=Clock())
    await cache.get("open", source.load)
    cache.invalidate()
    await cache.get("open", source.load)
    assert source.loads == 2


async def test_another_processes_change_is_noticed_after_recheck() -> None:
    """A moved marker (another process wrote a timeline row) drops the answers, but is only
    read once per ``recheck`` seconds."""
    source, clock = Source(), Clock()
    cache = ListCache(source.marker, recheck=2.0, clock=clock)
    await cache.get("open", source.load)
    source.mark = 2
    clock.now = 1.0
    await cache.get("open", source.load)
    assert (source.loads, source.marks) == (1, 1)
    clock.now = 2.5
    await cache.get("open", source.load)
    assert (source.loads, source.marks) == (2, 2)


async def test_a_load_that_raced_a_change_is_not_kept() -> None:
    """A change committed while an answer was being loaded: that answer is returned to its
    caller but not kept, so the next list loads again."""
    source = Source()
    cache = ListCache(source.marker, clock=Clock())

    async def racing_load() -> list[Incident]:
        cache.invalidate()
        return await source.load()

    await cache.get("open", racing_load)
    await cache.get("open", source.load)
    assert source.loads == 2


async def test_callers_get_their_own_list() -> None:
    """Changing the returned list does not change what the next caller gets."""
    source = Source()
    cache = ListCache(source.marker, clock=Clock())
    first = await cache.get("open", source.load)
    first.append(None)  # type: ignore[arg-type]
    assert await cache.get("open", source.load) == []
