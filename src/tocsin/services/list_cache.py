"""Answers to ``list`` kept in memory until something changes.

``/incident list`` is the read teams run most, and it asked the database the same question every
time. :class:`ListCache` keeps each answer (per scope and page) and drops them all:

* at once when this process commits a change (it is one of ``Context.on_commit``'s hooks, like
  the status page cache and the delivery workers' wake-up);
* within ``recheck`` seconds when another process (the CLI, ``tocsin worker``, another replica)
  changed an incident: after that long the next ``list`` reads a cheap marker, the newest timeline
  row's id, which every change to an incident moves, and drops the answers if it moved.

So a ``list`` in the process that made a change shows it immediately, and one in another replica
within two seconds. A load that raced with a change is used for its own answer but not kept
(a generation count), so a stale answer never outlives the change that made it stale.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from tocsin.domain.model import Incident

RECHECK_SECONDS = 2.0
MAX_ANSWERS = 64  # scopes × pages; past this the oldest is dropped


class ListCache:
    def __init__(
        self,
        marker: Callable[[], Awaitable[Any]],
        *,
        recheck: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.marker = marker
        self.recheck = recheck
        self.clock = clock
        self._answers: dict[Hashable, list[Incident]] = {}
        self._generation = 0
        self._seen: Any = None
        self._check_at = 0.0

    def invalidate(self) -> None:
        """Drop every answer (a synchronous ``on_commit`` hook)."""
        self._generation += 1
        self._answers.clear()

    async def get(
        self, key: Hashable, load: Callable[[], Awaitable[list[Incident]]]
    ) -> list[Incident]:
        """The answer for ``key``, from memory or from ``load()``. Callers must not change the
        incidents in it; the list itself is theirs."""
        now = self.clock()
        if now >= self._check_at:
            seen = await self.marker()
            if seen != self._seen:
                self._seen = seen
                self.invalidate()
            self._check_at = now + self.recheck
        kept = self._answers.get(key)
        if kept is not None:
            return list(kept)
        generation = self._generation
        answer = await load()
        if generation == self._generation:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = answer
        return list(answer)
