"""Structured logging and the request-context middleware's request id and access line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tocsin.observability import RequestContextMiddleware, configure_logging, current_request_id
from tocsin.observability.logging import reset_logging


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Every test starts and ends with structlog and the root logger untouched."""
    reset_logging()
    yield
    reset_logging()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Parse captured stdout; every non-empty line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_line_has_timestamp_level_event_logger_and_bound_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A structlog line is one JSON object with ISO UTC timestamp, level, event, logger, context."""
    configure_logging("info", "json")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    structlog.get_logger("tocsin.test").info("incident declared", incident="INC-1")
    [line] = json_lines(capsys.readouterr().out)
    assert line["event"] == "incident declared"
    assert line["level"] == "info"
    assert line["logger"] == "tocsin.test"
    assert line["incident"] == "INC-1"
    assert line["request_id"] == "req-1"
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)


def test_stdlib_loggers_use_the_same_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn's and alembic's stdlib log records come out as the same JSON, with context."""
    configure_logging("info", "json")
    structlog.contextvars.bind_contextvars(request_id="req-2")
    logging.getLogger("uvicorn.error").info("Started %s", "server", extra={"color_message": "x"})
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    first, second = json_lines(capsys.readouterr().out)
    assert (first["event"], first["logger"], first["level"]) == (
        "Started server",
        "uvicorn.error",
        "info",
    )
    assert first["request_id"] == "req-2"
    assert "color_message" not in first
    assert second["logger"] == "alembic.runtime.migration"


def test_configuring_twice_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """configure_logging is idempotent: calling it again still gives one line per event."""
    configure_logging("info", "json")
    configure_logging("info", "json")
    structlog.get_logger().info("once")
    logging.getLogger("sqlalchemy").warning("once too")
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["once", "once too"]


def test_level_filters_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """At warning level, info and debug lines are dropped."""
    configure_logging("warning", "json")
    log = structlog.get_logger()
    log.debug("hidden")
    log.info("hidden too")
    log.warning("shown")
    assert [line["event"] for line in json_lines(capsys.readouterr().out)] == ["shown"]


def test_exception_is_a_traceback_string_without_local_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """log.exception adds the traceback as text, and never the values of local variables."""
    configure_logging("info", "json")
    token = "xoxb-hunter2"
    try:
        raise RuntimeError(f"failed after {len(token)} chars")
    except RuntimeError:
        structlog.get_logger().exception("delivery failed")
    [line] = json_lines(capsys.readouterr().out)
    assert line["level"] == "error"
    assert "RuntimeError: failed after 12 chars" in line["exception"]
    assert "hunter2" not in json.dumps(line)


def test_console_format_is_for_humans(capsys: pytest.CaptureFixture[str]) -> None:
    """The console format prints readable text, not JSON."""
    configure_logging("debug", "console")
    structlog.get_logger().debug("hello there", who="alice")
    out = capsys.readouterr().out
    assert "hello there" in out
    assert "who=alice" in out
    assert not out.lstrip().startswith("{")


def test_unknown_level_or_format_is_refused() -> None:
    """A typo in the level or format raises instead of silently logging everything."""
    with pytest.raises(ValueError, match="log level"):
        configure_logging("verbose", "json")
    with pytest.raises(ValueError, match="log format"):
        configure_logging("info", "xml")


async def echo_request_id(request: Request) -> PlainTextResponse:
    """Answers with the request id bound in the log context."""
    structlog.get_logger("tocsin.test").info("inside")
    return PlainTextResponse(current_request_id() or "")


async def health(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def make_client() -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/echo", echo_request_id), Route("/health", health)],
        middleware=[Middleware(RequestContextMiddleware)],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_request_id_is_generated_and_returned(capsys: pytest.CaptureFixture[str]) -> None:
    """Without X-Request-ID a uuid4 hex is made, bound for logs and sent back in the header."""
    configure_logging("info", "json")
    async with make_client() as client:
        response = await client.get("/echo")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    int(request_id, 16)
    assert response.text == request_id
    inside, access = json_lines(capsys.readouterr().out)
    assert inside["request_id"] == access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("GET", "/echo", 200)
    assert access["duration_ms"] >= 0
    assert current_request_id() is None


async def test_sane_request_id_is_kept_and_a_bad_one_replaced() -> None:
    """A client's sane X-Request-ID is propagated; one with odd characters or too long is not."""
    async with make_client() as client:
        kept = await client.get("/echo", headers={"X-Request-ID": "edge-42.a_B"})
        odd = await client.get("/echo", headers={"X-Request-ID": 'bad id";drop'})
        long = await client.get("/echo", headers={"X-Request-ID": "a" * 129})
    assert kept.headers["X-Request-ID"] == kept.text == "edge-42.a_B"
    assert odd.headers["X-Request-ID"] != 'bad id";drop'
    assert len(long.headers["X-Request-ID"]) == 32


async def test_health_checks_are_logged_only_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    """/health access lines are skipped at info level and appear at debug."""
    configure_logging("info", "json")
    async with make_client() as client:
        await client.get("/health")
    assert json_lines(capsys.readouterr().out) == []
    configure_logging("debug", "json")
    async with make_client() as client:
        await client.get("/health")
    [line] = [x for x in json_lines(capsys.readouterr().out) if x["logger"] == "tocsin.access"]
    assert (line["path"], line["level"]) == ("/health", "debug")


async def test_context_bound_during_the_request_is_cleared_after() -> None:
    """Whatever the request bound is gone afterwards; the caller's own context is restored."""
    structlog.contextvars.bind_contextvars(job="outer")

    async def binds_more(scope: Any, receive: Any, send: Any) -> None:
        structlog.contextvars.bind_contextvars(incident="INC-9")
        await PlainTextResponse("ok")(scope, receive, send)

    app = RequestContextMiddleware(binds_more)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/anything")
    assert response.status_code == 200
    assert structlog.contextvars.get_contextvars() == {"job": "outer"}
