"""Silences: while one is active, the alerts it covers do not page, propose or declare.

A silence covers either one alert group (by id) or every alert whose labels match all its
matchers, from ``starts_at`` (included) to ``ends_at`` (excluded). Matchers work like
Alertmanager's: ``name="value"`` (equal), ``name!="value"``, ``name=~"regex"`` and
``name!~"regex"`` (the regex must match the whole value); a label the alert does not have counts
as the empty string. :func:`parse_matchers` reads ``team="payments",severity=~"crit.*"``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tocsin.domain.errors import ParseError

__all__ = ["MatchOp", "Matcher", "Silence", "is_silenced", "make_silence", "parse_matchers"]

MATCHER_USAGE = 'label matchers such as team="payments",severity=~"crit.*" (=, !=, =~, !~)'
_MATCHER = re.compile(
    r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|[^,"{}\s=!~]*)\s*'
)
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class MatchOp(enum.StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition; build it with :meth:`of` (which compiles and checks a regex)."""

    name: str
    op: MatchOp
    value: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, name: str, op: MatchOp | str, value: str) -> Matcher:
        op = MatchOp(op)
        pattern = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                pattern = re.compile(value)
            except re.error as exc:
                what = f'bad regex in {name}{op}"{value}": {exc}'
                raise ParseError(what, MATCHER_USAGE) from None
        return cls(name, op, value, pattern)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.pattern is None:
            return (actual == self.value) is (self.op is MatchOp.EQUAL)
        return (self.pattern.fullmatch(actual) is not None) is (self.op is MatchOp.REGEX)

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'


def _unquote(raw: str) -> str:
    if not raw.startswith('"'):
        return raw
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), raw[1:-1], flags=re.DOTALL)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """``team="payments",severity=~"crit.*"`` (braces around the list are allowed)."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    matchers: list[Matcher] = []
    position = 0
    while position < len(body) and body[position:].strip():
        found = _MATCHER.match(body, position)
        if found is None or not found["name"]:
            near = body[position:].strip()[:30]
            what = f'expected a matcher such as team="payments" at "{near}"'
            raise ParseError(what, MATCHER_USAGE)
        matchers.append(Matcher.of(found["name"], found["op"], _unquote(found["value"])))
        position = found.end()
        if body.startswith('"', position):
            near = body[found.start("value") :][:30]
            raise ParseError(f"unclosed quote in {found['name']}{found['op']}{near}", MATCHER_USAGE)
        if position < len(body) and body[position] != ",":
            near = body[position:][:30]
            raise ParseError(f'expected "," between matchers at "{near}"', MATCHER_USAGE)
        position += 1
    if not matchers:
        raise ParseError("no matchers given", MATCHER_USAGE)
    return tuple(matchers)


@dataclass(frozen=True, slots=True)
class Silence:
    """Covers one group (``group_id``) or every alert matching all ``matchers``."""

    starts_at: datetime
    ends_at: datetime
    matchers: tuple[Matcher, ...] = ()
    group_id: int | None = None
    comment: str = ""
    created_by: str = ""

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def covers(self, labels: Mapping[str, str], group_id: int | None = None) -> bool:
        if self.group_id is not None:
            return group_id == self.group_id
        return all(matcher.matches(labels) for matcher in self.matchers)

    def is_silenced(
        self, labels: Mapping[str, str], now: datetime, group_id: int | None = None
    ) -> bool:
        return self.is_active(now) and self.covers(labels, group_id)


def make_silence(
    starts_at: datetime,
    ends_at: datetime,
    *,
    matchers: str | tuple[Matcher, ...] = (),
    group_id: int | None = None,
    comment: str = "",
    created_by: str = "",
) -> Silence:
    """A checked silence: aware times, ends after it starts, exactly one of a group or matchers,
    and matchers that cannot cover everything (one must not match the empty string, as in
    Alertmanager)."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ParseError("silence times need a time zone (use UTC)")
    if ends_at <= starts_at:
        raise ParseError("a silence must end after it starts")
    parsed = parse_matchers(matchers) if isinstance(matchers, str) else matchers
    if (group_id is None) == (not parsed):
        raise ParseError("a silence covers exactly one of: an alert group, or label matchers")
    if parsed and all(matcher.matches({}) for matcher in parsed):
        what = "these matchers would silence every alert; one must not match an empty label"
        raise ParseError(what, MATCHER_USAGE)
    return Silence(starts_at, ends_at, parsed, group_id, comment, created_by)


def is_silenced(
    silences: Iterable[Silence],
    labels: Mapping[str, str],
    now: datetime,
    group_id: int | None = None,
) -> bool:
    """Whether any of ``silences`` is active at ``now`` and covers these labels (or group)."""
    return any(silence.is_silenced(labels, now, group_id) for silence in silences)
