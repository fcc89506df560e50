"""The status page cache: built once, served from memory, dropped when something changes.

During an outage the status page is the most requested page there is, so a request must not touch
the database. :class:`StatusCache` keeps one built :class:`~tocsin.domain.status_view.StatusPage`
and, per representation (HTML, Atom, each JSON document), the rendered bytes with their headers.

It is dropped (:meth:`StatusCache.invalidate`):

* at once when this process commits a change (``Context.on_commit``), and, with TOCSIN_REDIS_URL,
  when another replica does (:mod:`tocsin.adapters.web.status.invalidation`);
* within ``recheck`` seconds when another process without Redis (the CLI, a replica) changed the
  database: after that long a request reads a cheap change marker (the newest timeline row and the
  components' last change) and rebuilds only if it moved;
* after ``max_age`` seconds regardless, because uptime bars and "today" move with time.

One rebuild runs at a time (a lock); requests that arrive meanwhile wait for it rather than
stampeding the database. ``status_cache_total{result}`` counts hits (bytes served from memory)
and misses (a build or a render).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import structlog

from tocsin.domain.status_view import StatusPage
from tocsin.observability.metrics import Metrics

log = structlog.get_logger("tocsin.status")

Renderer = tuple[Callable[[StatusPage], bytes], str]  # (render, media type)
RECHECK_SECONDS = 2.0
MAX_AGE_SECONDS = 60.0
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30"
MAX_KEPT = 2048  # representations whose Last-Modified is kept (the named ones always)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One representation, ready to send: body, validators and the raw response headers."""

    body: bytes
    etag: bytes  # quoted, as sent
    last_modified: bytes
    headers: tuple[tuple[bytes, bytes], ...]


@dataclass(slots=True)
class _Built:
    generation: int
    marker: Any
    page: StatusPage
    fresh_until: float
    expires_at: float
    rendered: dict[str, Rendered] = field(default_factory=dict)


class StatusCache:
    def __init__(
        self,
        load: Callable[[], Awaitable[StatusPage]],
        marker: Callable[[], Awaitable[Any]],
        renderers: Mapping[str, Renderer],
        *,
        metrics: Metrics | None = None,
        extra_headers: Mapping[str, tuple[tuple[bytes, bytes], ...]] | None = None,
        cache_control: str = CACHE_CONTROL,
        recheck: float = RECHECK_SECONDS,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.load = load
        self.marker = marker
        self.renderers = renderers
        self.extra_headers = extra_headers or {}
        self.cache_control = cache_control.encode()
        self.recheck = recheck
        self.max_age = max_age
        self.clock = clock
        self.generation = 0
        self.builds = 0
        self._built: _Built | None = None
        self._lock = asyncio.Lock()
        self._previous: dict[str, Rendered] = {}  # keeps Last-Modified while the bytes are equal
        self._hit = metrics.status_cache_total.labels("hit") if metrics else None
        self._miss = metrics.status_cache_total.labels("miss") if metrics else None

    def invalidate(self) -> None:
        """Something changed: the next request builds the page again."""
        self.generation += 1

    async def get(self, name: str) -> Rendered:
        """Representation ``name`` of the current page."""
        built = self._built
        if (
            built is not None
            and built.generation == self.generation
            and self.clock() < built.fresh_until
        ):
            found = built.rendered.get(name)
            if found is not None:
                if self._hit is not None:
                    self._hit.inc()
                return found
        return await self._slow(name)

    async def current(self) -> StatusPage:
        """The current page itself (built if needed; not counted as a hit or a miss)."""
        built = self._built
        if (
            built is not None
            and built.generation == self.generation
            and self.clock() < built.fresh_until
        ):
            return built.page
        async with self._lock:
            return (await self._current()).page

    async def _slow(self, name: str) -> Rendered:
        async with self._lock:
            built = await self._current()
            found = built.rendered.get(name)
            if found is not None:
                self._count(hit=True)
                return found
            found = self._render(name, built.page)
            built.rendered[name] = found
            self._count(hit=False)
            return found

    async def _current(self) -> _Built:
        """The built page, rebuilt when invalidated, expired, or the marker moved. When the
        database cannot be read, the last page built is served (stale) rather than an error,
        and the next attempt waits ``recheck`` seconds."""
        built, now = self._built, self.clock()
        try:
            if built is None or built.generation != self.generation or now >= built.expires_at:
                return await self._build()
            if now < built.fresh_until:
                return built
            if await self.marker() != built.marker:
                return await self._build()
        except Exception as exc:
            if built is None:
                raise
            log.warning("status page served stale: cannot read the database", error=str(exc))
            built.generation, built.expires_at = self.generation, now + self.recheck
        built.fresh_until = now + self.recheck
        return built

    async def _build(self) -> _Built:
        generation = self.generation  # a change while we read makes the next request rebuild
        marker = await self.marker()  # read before the page: a later change moves it
        page = await self.load()
        now = self.clock()
        self.builds += 1
        self._built = _Built(generation, marker, page, now + self.recheck, now + self.max_age)
        return self._built

    def _render(self, name: str, page: StatusPage) -> Rendered:
        render, media_type = self.renderers[name]
        return self.rendered(name, render(page), media_type)

    def rendered(
        self, name: str, body: bytes, media_type: str, extra: str | None = None
    ) -> Rendered:
        """``body`` with its validators and headers (those of representation ``extra or name``);
        ``Last-Modified`` stays while representation ``name``'s bytes are unchanged."""
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        previous = self._previous.get(name)
        if previous is not None and previous.etag == etag:
            return previous
        modified = formatdate(time.time(), usegmt=True).encode()
        headers = (
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"etag", etag),
            (b"last-modified", modified),
            (b"cache-control", self.cache_control),
            *self.extra_headers.get(extra or name, ()),
        )
        rendered = Rendered(body, etag, modified, headers)
        if name in self.renderers or len(self._previous) < MAX_KEPT:
            self._previous[name] = rendered
        return rendered

    def _count(self, *, hit: bool) -> None:
        counter = self._hit if hit else self._miss
        if counter is not None:
            counter.inc()
