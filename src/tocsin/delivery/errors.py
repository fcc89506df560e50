"""Turning what went wrong into a :class:`RetryableError` or a :class:`PermanentError`.

Senders may raise these errors themselves (Slack answers HTTP 200 with ``{"ok": false}``), or let
httpx errors escape: :func:`classify` maps them the same way for every destination.

=========================================  ==========================================
what happened                              outcome
=========================================  ==========================================
timeout, connection error                  retry (a read timeout may have been sent)
HTTP 408, 5xx                              retry (``Retry-After`` honoured if given)
HTTP 429, 420 (Statuspage)                 retry after ``Retry-After`` or the body's
                                           ``retry_after`` (Discord, float seconds)
other 4xx                                  dead, with the status and the body's error
anything else (a bug in a sender)          dead, "internal error in the ... sender"
=========================================  ==========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from tocsin.delivery.base import DeliveryError, PermanentError, RetryableError

RATE_LIMITED = (420, 429)
_SENT_TIMEOUTS = (httpx.ReadTimeout, httpx.WriteTimeout)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _body_fields(body: bytes | str) -> dict[str, object]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _snippet(body: bytes | str, fields: Mapping[str, object]) -> str:
    for name in ("error", "message", "detail"):
        if isinstance(fields.get(name), str) and fields[name]:
            return str(fields[name])[:200]
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:200]


def error_for_status(
    status: int, headers: Mapping[str, str], body: bytes | str = b""
) -> DeliveryError | None:
    """The error an HTTP answer means, or None for a success (1xx-3xx)."""
    if status < 400:
        return None
    fields = _body_fields(body)
    reason = f"HTTP {status}"
    detail = _snippet(body, fields)
    if detail:
        reason = f"{reason}: {detail}"
    retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    body_retry = fields.get("retry_after")
    if isinstance(body_retry, int | float) and not isinstance(body_retry, bool):
        retry_after = max(retry_after or 0.0, float(body_retry))
    if status in RATE_LIMITED or status == 408 or status >= 500:
        return RetryableError(reason, retry_after)
    return PermanentError(reason)


def raise_for_response(response: httpx.Response) -> None:
    """Raise the :class:`DeliveryError` an httpx response means; return on success."""
    error = error_for_status(response.status_code, response.headers, response.content)
    if error is not None:
        raise error


def classify(exc: BaseException, destination: str = "") -> DeliveryError:
    """Any exception a sender raised, as the :class:`DeliveryError` the worker acts on."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        error = error_for_status(response.status_code, response.headers, response.content)
        return error or PermanentError(str(exc))
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        sent = isinstance(exc, (*_SENT_TIMEOUTS, TimeoutError))
        return RetryableError(f"timeout: {_describe(exc)}", maybe_sent=sent)
    if isinstance(exc, httpx.TransportError | OSError):
        return RetryableError(f"connection error: {_describe(exc)}")
    who = f"the {destination} sender" if destination else "a sender"
    return PermanentError(f"internal error in {who}: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
