"""The status page cache (adapters/web/status/cache.py) and its conditional answers: hits and
misses, invalidation, the change marker, expiry, one build under a stampede, stable validators,
and 304 for If-None-Match / If-Modified-Since."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tocsin.adapters.web.status.cache import StatusCache
from tocsin.adapters.web.status.routes import not_modified
from tocsin.domain.status_view import PageInfo, StatusPage
from tocsin.observability.metrics import create_metrics

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Source:
    """A fake database: a page named after ``version``, a marker, and counters."""

    def __init__(self) -> None:
        self.version = 1
        self.marker_value = 1
        self.loads = 0
        self.marker_reads = 0
        self.delay = 0.0

    async def load(self) -> StatusPage:
        self.loads += 1
        await asyncio.sleep(self.delay)
        page = PageInfo("pg", f"v{self.version}", "https://x.test/status")
        return StatusPage(page, "none", "All Systems Operational", (), (), (), NOW)

    async def marker(self) -> Any:
        self.marker_reads += 1
        return self.marker_value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def renderers() -> dict[str, Any]:
    return {"name": (lambda p: p.page.name.encode(), "text/plain")}


def make(source: Source, clock: Clock, **kw: Any) -> StatusCache:
    metrics = kw.pop("metrics", None)
    return StatusCache(
        source.load, source.marker, renderers(), clock=clock, metrics=metrics,
        recheck=2.0, max_age=60.0, **kw,
    )  # fmt: skip


async def test_hits_after_the_first_build_and_counters() -> None:
    """The first get builds and renders (a miss); the next ones are hits with no I/O."""
    source, clock, metrics = Source(), Clock(), create_metrics(process=False)
    cache = make(source, clock, metrics=metrics)
    for _ in range(10):
        assert (await cache.get("name")).body == b"v1"
    assert source.loads == 1
    counter = metrics.status_cache_total
    assert counter.labels("miss")._value.get() == 1
    assert counter.labels("hit")._value.get() == 9


async def test_invalidate_rebuilds_at_once() -> None:
    """invalidate() (a commit in this process, or a Redis message) drops the page now."""
    source, clock = Source(), Clock()
    cache = make(source, clock)
    await cache.get("name")
    source.version = 2
    assert (await cache.get("name")).body == b"v1"
    cache.invalidate()
    assert (await cache.get("name")).body == b"v2"


async def test_marker_recheck_catches_other_writers() -> None:
    """After ``recheck`` seconds the marker is read: unchanged keeps the page (no load),
    changed rebuilds it (a change made by the CLI or another replica)."""
    source, clock = Source(), Clock()
    cache = make(source, clock)
    await cache.get("name")
    clock.now += 2.5
    await cache.get("name")
    assert source.loads == 1
    assert source.marker_reads == 2
    source.version, source.marker_value = 2, 2
    clock.now += 2.5
    assert (await cache.get("name")).body == b"v2"
    assert source.loads == 2


async def test_expires_after_max_age() -> None:
    """Even with an unchanged marker the page is rebuilt after max_age (uptime moves on)."""
    source, clock = Source(), Clock()
    cache = make(source, clock)
    await cache.get("name")
    clock.now += 61
    await cache.get("name")
    assert source.loads == 2


async def test_a_stampede_builds_once() -> None:
    """100 concurrent requests on a cold cache cause one load, not 100."""
    source, clock = Source(), Clock()
    source.delay = 0.05
    cache = make(source, clock)
    bodies = await asyncio.gather(*(cache.get("name") for _ in range(100)))
    assert {b.body for b in bodies} == {b"v1"}
    assert source.loads == 1


async def test_validators_are_stable_while_the_bytes_are() -> None:
    """A rebuild with the same bytes keeps ETag and Last-Modified; new bytes get a new ETag."""
    source, clock = Source(), Clock()
    cache = make(source, clock)
    first = await cache.get("name")
    cache.invalidate()
    same = await cache.get("name")
    assert (same.etag, same.last_modified) == (first.etag, first.last_modified)
    source.version = 3
    cache.invalidate()
    assert (await cache.get("name")).etag != first.etag
    headers = dict(first.headers)
    assert headers[b"etag"] == first.etag
    assert headers[b"content-length"] == b"2"


async def test_conditional_requests() -> None:
    """If-None-Match with the ETag (also in a list, weak, or *) is 304; a different one is not;
    If-Modified-Since counts only without If-None-Match."""
    rendered = await make(Source(), Clock()).get("name")
    etag, modified = rendered.etag, rendered.last_modified

    def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"headers": list(headers)}

    assert not_modified(scope((b"if-none-match", etag)), rendered)
    assert not_modified(scope((b"if-none-match", b'"x", W/' + etag)), rendered)
    assert not_modified(scope((b"if-none-match", b"*")), rendered)
    assert not not_modified(scope((b"if-none-match", b'"other"')), rendered)
    assert not_modified(scope((b"if-modified-since", modified)), rendered)
    old = b"Mon, 01 Jan 2001 00:00:00 GMT"
    assert not not_modified(scope((b"if-modified-since", old)), rendered)
    both = scope((b"if-none-match", b'"other"'), (b"if-modified-since", modified))
    assert not not_modified(both, rendered)
    assert not not_modified(scope((b"if-modified-since", b"garbage")), rendered)
