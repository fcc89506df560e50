"""Evaluating one check: did the monitored target answer as the monitor expects?

The first rule that fails gives the reason, in this order: no answer at all ("timeout after 5 s",
"connection refused"), the status code ("status 503, expected 200"), ``keyword`` ("keyword "ok"
missing"), ``absent_keyword`` ("keyword "error" present"), ``max_response_ms`` ("took 2,300 ms >
2,000 ms") and ``tls_expiry_warn_days`` ("certificate expires in 5 days"). A TCP monitor only
has the first and the response time.

:func:`failed_check_text` is how one failed check reads in a down monitor's alert and on the
timeline of an incident declared for it: its time (UTC) and reason, and the response time when
there was an answer ("12:00:30 status 503, expected 200 (134 ms)").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC

from tocsin.domain.monitors.model import ConnectError, Monitor, MonitorKind, Observation, Outcome

__all__ = ["evaluate", "expected_status_text", "failed_check_text"]


def evaluate(monitor: Monitor, seen: Observation) -> Outcome:
    """The verdict on ``seen`` for ``monitor``: ok, or failed with a short reason."""
    http = monitor.kind is MonitorKind.HTTP
    reason = _no_answer(monitor, seen)
    if not reason and http:
        reason = _content(monitor, seen)
    reason = reason or _latency(monitor, seen)
    if not reason and http:
        reason = _certificate(monitor, seen)
    latency = None if seen.error is not None else seen.latency_ms
    return Outcome(seen.checked_at, not reason, reason, latency)


def failed_check_text(outcome: Outcome) -> str:
    """``HH:MM:SS <reason>`` (UTC), then ``(<n> ms)`` when the target answered; a reason that
    already gives the time taken (``took 2,300 ms > 2,000 ms``) is not followed by it again."""
    text = f"{outcome.checked_at.astimezone(UTC):%H:%M:%S} {outcome.reason}"
    took = outcome.latency_ms
    if took is None or outcome.reason.startswith("took "):
        return text
    return f"{text} ({took:,} ms)"


def _no_answer(monitor: Monitor, seen: Observation) -> str:
    if seen.error is ConnectError.TIMEOUT:
        return f"timeout after {monitor.timeout_seconds} s"
    if seen.error is not None:
        return str(seen.error)
    if monitor.kind is MonitorKind.HTTP and seen.status_code is None:
        return "no HTTP response"
    return ""


def _content(monitor: Monitor, seen: Observation) -> str:
    code = seen.status_code
    if not _status_ok(code, monitor.expect_status):
        return f"status {code}, expected {expected_status_text(monitor.expect_status)}"
    if monitor.keyword is not None and monitor.keyword not in seen.body:
        return f'keyword "{monitor.keyword}" missing'
    if monitor.absent_keyword is not None and monitor.absent_keyword in seen.body:
        return f'keyword "{monitor.absent_keyword}" present'
    return ""


def _status_ok(code: int | None, expected: Sequence[int]) -> bool:
    if code is None:
        return False
    return code in expected if expected else 200 <= code <= 299


def expected_status_text(expected: Sequence[int]) -> str:
    """``200``, ``200 or 204``, ``200, 201 or 204``; any 2xx when none is given."""
    if not expected:
        return "2xx"
    names = [str(code) for code in expected]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _latency(monitor: Monitor, seen: Observation) -> str:
    limit, took = monitor.max_response_ms, seen.latency_ms
    if limit is None or took is None or took <= limit:
        return ""
    return f"took {took:,} ms > {limit:,} ms"


def _certificate(monitor: Monitor, seen: Observation) -> str:
    warn, not_after = monitor.tls_expiry_warn_days, seen.cert_not_after
    if warn is None or not_after is None:
        return ""
    days = (not_after - seen.checked_at).total_seconds() / 86400
    if days < 0:
        ago = math.ceil(-days)
        return f"certificate expired {ago} day{'s' if ago != 1 else ''} ago"
    if days >= warn:
        return ""
    left = math.floor(days)
    if not left:
        return "certificate expires within a day"
    return f"certificate expires in {left} day{'s' if left != 1 else ''}"
