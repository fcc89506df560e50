"""The policy file's ``[[monitor]]`` section, checked one problem per line.

``docs/policy.md`` ("Monitors") is the reference for the keys and their bounds. The same parser
checks the monitors stored through the API and the CLI
(:mod:`~tocsin.domain.monitor_definition`), so a name follows one rule wherever it is defined:
since it travels in URLs (``/api/v1/monitors/{name}``, ``/monitors/{name}``) it has at most
:data:`MAX_NAME` characters, no ``/``, no control characters and no spaces at either end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeGuard

from tocsin.domain.monitors.model import Monitor, MonitorKind
from tocsin.domain.policy import COMPONENT_STATUSES

if TYPE_CHECKING:
    from tocsin.domain.policy_file import _Checker

__all__ = ["MAX_NAME", "MONITOR_KEYS", "parse_monitor", "parse_monitors"]

MAX_NAME = 100

MONITOR_KEYS = ("name", "kind", "url", "target", "method", "headers", "interval_seconds",
                "timeout_seconds", "expect_status", "keyword", "absent_keyword",
                "max_response_ms", "tls_expiry_warn_days", "down_after", "up_after",
                "component", "component_status", "follow_redirects")  # fmt: skip
_HTTP_ONLY = ("url", "method", "headers", "expect_status", "keyword", "absent_keyword",
              "tls_expiry_warn_days", "follow_redirects")  # fmt: skip
METHODS = ("GET", "HEAD", "POST")
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<host>[^/?#\s]+)[^\s]*")
_TARGET = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _between(low: int, high: int) -> Callable[[object], bool]:
    return lambda value: _whole(value) and low <= value <= high


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _optional(ok: Callable[[object], bool]) -> Callable[[object], bool]:
    """Also accept the key being absent (``None``)."""
    return lambda value: value is None or ok(value)


def parse_monitors(
    check: _Checker, data: Mapping[str, Any], components: Sequence[str]
) -> tuple[Monitor, ...]:
    """``[[monitor]]`` entries, checked; ``components`` are the ``[[component]]`` names."""
    seen: set[str] = set()
    return tuple(
        parse_monitor(check, table, path, components, seen)
        for path, table in check.tables(data, "monitor")
    )


def parse_monitor(
    check: _Checker,
    table: Mapping[str, Any],
    path: str,
    components: Sequence[str] | None,
    seen: set[str],
) -> Monitor:
    """One ``[[monitor]]`` table at ``path``, its problems added to ``check``; ``seen`` holds
    the names already taken (this one is added). ``components`` None leaves ``component``
    unchecked (a stored definition read back)."""
    check.known_keys(table, MONITOR_KEYS, path)
    name = check.name(table, path, "monitor", seen)
    problem = _name_problem(table.get("name"))
    if problem is not None:
        check.add(f"{path}.name", problem)
    kind = _kind(check, table, path)
    return _monitor(check, table, path, name, kind, components)


def _name_problem(name: object) -> str | None:
    """What is wrong with a monitor's name for a URL (a missing or empty one the checker
    reports)."""
    if not isinstance(name, str) or not name.strip():
        return None
    if len(name) > MAX_NAME:
        return f"at most {MAX_NAME} characters"
    if "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return 'must not contain "/" or control characters'
    if name != name.strip():
        return "must not start or end with spaces"
    return None


def _monitor(
    check: _Checker,
    table: Mapping[str, Any],
    path: str,
    name: str,
    kind: MonitorKind,
    components: Sequence[str] | None,
) -> Monitor:
    http = kind is MonitorKind.HTTP
    url = _url(check, table, path) if http else ""
    target = "" if http else _target(check, table, path)
    interval, timeout = _timing(check, table, path)
    counts = "a whole number from 1 to 100"
    text = _optional(_is_text)
    status_ok, statuses = (lambda v: v in COMPONENT_STATUSES), ", ".join(COMPONENT_STATUSES)
    return Monitor(
        name, kind, url, target,
        method=check.get(table, "method", path, "GET", lambda v: v in METHODS, "GET, HEAD or POST"),
        headers=_headers(check, table, path),
        interval_seconds=interval,
        timeout_seconds=timeout,
        expect_status=_expect_status(check, table, path),
        keyword=check.get(table, "keyword", path, None, text, "some text"),
        absent_keyword=check.get(table, "absent_keyword", path, None, text, "some text"),
        max_response_ms=check.get(table, "max_response_ms", path, None,
                                  _optional(_between(1, 600_000)), _MS),
        tls_expiry_warn_days=_tls_days(check, table, path, url),
        down_after=check.get(table, "down_after", path, 2, _between(1, 100), counts),
        up_after=check.get(table, "up_after", path, 1, _between(1, 100), counts),
        component=_component(check, table, path, components),
        component_status=check.get(table, "component_status", path, "major_outage", status_ok,
                                   statuses),
        follow_redirects=check.get(table, "follow_redirects", path, False,
                                   lambda v: isinstance(v, bool), "true or false"),
    )  # fmt: skip


_MS = "a whole number of milliseconds from 1 to 600,000"


def _kind(check: _Checker, table: Mapping[str, Any], path: str) -> MonitorKind:
    if "kind" not in table:
        check.add(f"{path}.kind", 'missing (expected "http" or "tcp")')
        return MonitorKind.HTTP
    wanted = '"http" or "tcp"'
    value = check.get(table, "kind", path, "http", lambda v: v in ("http", "tcp"), wanted)
    kind = MonitorKind(value)
    if kind is MonitorKind.TCP:
        for key in _HTTP_ONLY:
            if key in table:
                check.add(f"{path}.{key}", 'only used with kind = "http"')
    elif "target" in table:
        check.add(f"{path}.target", 'only used with kind = "tcp" (an http monitor has a url)')
    return kind


def _required(check: _Checker, table: Mapping[str, Any], path: str, key: str, why: str) -> str:
    """``table[key]`` as text; a problem saying ``why`` when it is missing."""
    if key not in table:
        check.add(f"{path}.{key}", f"missing ({why})")
        return ""
    return check.text(table, key, path, "")


def _url(check: _Checker, table: Mapping[str, Any], path: str) -> str:
    url = _required(check, table, path, "url", 'an http monitor needs a url such as "https://…"')
    match = _URL.fullmatch(url)
    if url and (match is None or match["scheme"].lower() not in ("http", "https")):
        check.add(f"{path}.url", f'expected an http:// or https:// URL, got "{url[:60]}"')
    return url


def _target(check: _Checker, table: Mapping[str, Any], path: str) -> str:
    target = _required(
        check, table, path, "target", 'a tcp monitor needs host:port, e.g. "db:5432"'
    )
    match = _TARGET.fullmatch(target)
    if target and (match is None or not 1 <= int(match["port"]) <= 65535):
        what = f'expected host:port with a port from 1 to 65535, got "{target[:60]}"'
        check.add(f"{path}.target", what)
    return target


def _timing(check: _Checker, table: Mapping[str, Any], path: str) -> tuple[int, int]:
    seconds = "a whole number of seconds from 10 to 86400"
    interval = check.get(table, "interval_seconds", path, 60, _between(10, 86400), seconds)
    wanted = f"a whole number of seconds, at least 1 and less than the interval ({interval})"
    timeout_default = min(10, interval - 1)
    timeout = check.get(
        table, "timeout_seconds", path, timeout_default, _between(1, interval - 1), wanted
    )
    return interval, timeout


def _headers(check: _Checker, table: Mapping[str, Any], path: str) -> Mapping[str, str]:
    where = f"{path}.headers"
    headers = {}
    for key, value in check.table(table.get("headers", {}), where).items():
        if _HEADER_NAME.fullmatch(str(key)) is None:
            check.add(f"{where}.{key}", "not a valid HTTP header name")
        elif not isinstance(value, str) or "\n" in value or "\r" in value:
            check.add(f"{where}.{key}", "expected one line of text")
        else:
            headers[str(key)] = value
    return MappingProxyType(headers)


def _expect_status(check: _Checker, table: Mapping[str, Any], path: str) -> tuple[int, ...]:
    if "expect_status" not in table:
        return ()
    value = table["expect_status"]
    if not isinstance(value, list) or not value or not all(map(_between(100, 599), value)):
        what = "expected a list of status codes from 100 to 599 such as [200, 204]"
        check.add(f"{path}.expect_status", what)
        return ()
    return tuple(dict.fromkeys(value))


def _tls_days(check: _Checker, table: Mapping[str, Any], path: str, url: str) -> int | None:
    days = check.get(table, "tls_expiry_warn_days", path, None, _optional(_between(1, 365)),
                     "a whole number of days from 1 to 365")  # fmt: skip
    if days is not None and url and not url.lower().startswith("https://"):
        check.add(f"{path}.tls_expiry_warn_days", "only used with an https:// url")
    return days


def _component(
    check: _Checker, table: Mapping[str, Any], path: str, components: Sequence[str] | None
) -> str | None:
    if "component" not in table:
        return None
    name = check.text(table, "component", path, "")
    if name and components is not None and name not in components:
        known = ", ".join(sorted(c for c in components if c)) or "none are defined"
        check.add(f"{path}.component", f'unknown component "{name}" (known: {known})')
    return name or None
