"""The post-mortem: a Markdown document built from an incident and its timeline.

:func:`render_postmortem` is pure and deterministic: the same incident, timeline and ``now`` give
the same bytes. Text that people typed (titles, names, notes, summaries) is escaped so it cannot
break the document's structure: no fake headings, no table cells split by ``|``, no unclosed code
fences, and no live HTML (``<`` and ``>`` become ``&lt;`` and ``&gt;``). Inline Markdown such as
``*emphasis*`` or `` `code` `` inside a note is kept, since it cannot leave its line.

All times are shown in UTC; a naive datetime (as some databases return) is taken to be UTC.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tocsin.domain.model import (
    ActionItem,
    Actor,
    EntryKind,
    Incident,
    Role,
    Severity,
    TimelineEntry,
)

NO_VALUE = "—"
"""Shown where a time, a duration or a role holder is not known."""

_ENTITY_RE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})")
_SETEXT_RE = re.compile(r"^(=+|-+)$")

_FOLLOW_UP = (
    "- What went well?",
    "- What went badly?",
    "- Where did we get lucky?",
)


# --- times and durations -----------------------------------------------------------------------
def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def _since(start: datetime, end: datetime | None) -> timedelta | None:
    return None if end is None else _utc(end) - _utc(start)


def format_time(at: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM UTC``, or ``—`` when there is no time."""
    return NO_VALUE if at is None else _utc(at).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(delta: timedelta | None) -> str:
    """A short human duration: ``45s``, ``12m``, ``1h 05m``, ``2d 3h``; ``—`` for ``None``.

    Smaller units are cut off, not rounded (4m 59s is ``4m``), as a stopwatch would show it.
    """
    if delta is None:
        return NO_VALUE
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "-" + format_duration(timedelta(seconds=-seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def durations(incident: Incident, now: datetime) -> dict[str, timedelta | None]:
    """Time from declaration to each milestone (``None`` if not reached), and the total.

    ``duration`` runs from declaration to resolution, or to ``now`` while the incident is open.
    """
    start = incident.declared_at
    return {
        "time_to_acknowledge": _since(start, incident.acknowledged_at),
        "time_to_identify": _since(start, incident.identified_at),
        "time_to_mitigate": _since(start, incident.mitigated_at),
        "time_to_resolve": _since(start, incident.resolved_at),
        "duration": _since(start, incident.resolved_at or now),
    }


# --- escaping ----------------------------------------------------------------------------------
def _html(text: str) -> str:
    text = _ENTITY_RE.sub("&amp;", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str) -> str:
    """User text for one line of Markdown: whitespace (newlines too) collapsed, HTML escaped."""
    return _html(" ".join(text.split()))


def _heading_text(text: str) -> str:
    return inline(text).replace("#", "\\#")


def _block_line(line: str) -> str:
    line = _html(line.strip())
    if line.startswith("#") or _FENCE_RE.match(line) or _SETEXT_RE.match(line):
        return "\\" + line
    return line


def block(text: str) -> str:
    """User text kept as paragraphs; lines that would start a heading or code fence are escaped."""
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = _block_line(raw)
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return "\n\n".join(paragraphs)


def _name(actor: Actor | None) -> str:
    return NO_VALUE if actor is None else inline(actor.name)


def _severity(value: object) -> Severity | None:
    try:
        return Severity(str(value))
    except ValueError:
        return None


def _show_severity(severity: Severity) -> str:
    return f"{severity} ({severity.label})"


# --- sections ----------------------------------------------------------------------------------
def _header(incident: Incident, now: datetime, public_url: str) -> list[str]:
    status = str(incident.status)
    if incident.is_open:
        status += " (still open)"
    total = durations(incident, now)["duration"]
    lines = [
        f"# {incident.ref}: {_heading_text(incident.title)}",
        "",
        f"- **Severity:** {_show_severity(incident.severity)}",
        f"- **Status:** {status}",
        f"- **Declared:** {format_time(incident.declared_at)} by {_name(incident.declared_by)}",
        f"- **Resolved:** {format_time(incident.resolved_at)}",
        f"- **Duration:** {format_duration(total)}" + (" so far" if incident.is_open else ""),
    ]
    if public_url:
        lines.append(f"- **Link:** {public_url.rstrip('/')}/incidents/{incident.number}")
    return lines


def _summary(incident: Incident, timeline: Sequence[TimelineEntry]) -> list[str]:
    lines = ["## Summary", ""]
    if incident.summary.strip():
        return [*lines, block(incident.summary)]
    updates = [entry for entry in timeline if entry.kind is EntryKind.UPDATE]
    if updates:
        last = updates[-1]
        return [*lines, f"_Last status update ({format_time(last.at)}):_", "", block(last.text)]
    return [*lines, "_To be written._"]


def severity_history(
    incident: Incident, timeline: Sequence[TimelineEntry]
) -> list[tuple[datetime, Severity, Actor | None]]:
    """``(when, severity, who changed it)`` from declaration on; the first is the initial one."""
    changes: list[tuple[datetime, Severity, Actor | None]] = []
    initial: Severity | None = None
    for entry in timeline:
        if entry.kind is EntryKind.DECLARED and initial is None:
            initial = _severity(entry.data.get("severity"))
        elif entry.kind is EntryKind.SEVERITY:
            new = _severity(entry.data.get("to"))
            if initial is None and not changes:
                initial = _severity(entry.data.get("from"))
            if new is not None:
                changes.append((entry.at, new, entry.actor))
    if initial is None:
        initial = changes[0][1] if changes else incident.severity
    return [(incident.declared_at, initial, None), *changes]


def _impact(incident: Incident, timeline: Sequence[TimelineEntry]) -> list[str]:
    history = severity_history(incident, timeline)
    highest = min((severity for _, severity, _ in history), key=lambda s: s.rank)
    lines = ["## Impact", ""]
    if incident.description.strip():
        lines += [block(incident.description), ""]
    lines += [
        f"- **Highest severity:** {_show_severity(highest)}",
        f"- **Current severity:** {_show_severity(incident.severity)}",
        "- **Severity history:**",
        f"  - {format_time(history[0][0])}: declared as {_show_severity(history[0][1])}",
    ]
    previous = history[0][1]
    for at, severity, actor in history[1:]:
        verb = "raised" if severity.rank < previous.rank else "lowered"
        lines.append(
            f"  - {format_time(at)}: {verb} to {_show_severity(severity)} by {_name(actor)}"
        )
        previous = severity
    return lines


def _key_times(incident: Incident, now: datetime) -> list[str]:
    spans = durations(incident, now)
    rows = [
        ("Acknowledged", incident.acknowledged_at, spans["time_to_acknowledge"]),
        ("Identified", incident.identified_at, spans["time_to_identify"]),
        ("Mitigated", incident.mitigated_at, spans["time_to_mitigate"]),
        ("Resolved", incident.resolved_at, spans["time_to_resolve"]),
    ]
    lines = [
        "## Key times",
        "",
        "| Milestone | When | Time since declared |",
        "|---|---|---|",
        f"| Declared | {format_time(incident.declared_at)} | {NO_VALUE} |",
    ]
    lines += [
        f"| {label} | {format_time(at)} | {format_duration(span)} |" for label, at, span in rows
    ]
    total = "Duration so far (still open)" if incident.is_open else "Total duration"
    lines.append(f"| {total} | {NO_VALUE} | {format_duration(spans['duration'])} |")
    return lines


def _roles(incident: Incident) -> list[str]:
    lines = ["## Roles", ""]
    for role in Role:
        lines.append(f"- **{role.value.capitalize()}:** {_name(incident.roles.get(role))}")
    people = ", ".join(_name(person) for person in incident.participants) or NO_VALUE
    lines.append(f"- **Participants:** {people}")
    return lines


def _timeline(timeline: Sequence[TimelineEntry]) -> list[str]:
    lines = ["## Timeline"]
    if not timeline:
        return [*lines, "", "_No entries._"]
    day: date | None = None
    for entry in timeline:
        at = _utc(entry.at)
        if at.date() != day:
            day = at.date()
            lines += ["", f"### {day.isoformat()}", ""]
        lines.append(
            f"- {at.strftime('%H:%M:%S')} UTC · {_name(entry.actor)} · {inline(entry.text)}"
        )
    return lines


def _action_line(item: ActionItem) -> str:
    box = "[x]" if item.done else "[ ]"
    owner = f"owner @{_name(item.owner)}" if item.owner is not None else "no owner yet"
    return f"- {box} {inline(item.text)} ({owner})"


def _actions(incident: Incident) -> list[str]:
    lines = ["## Action items", ""]
    if not incident.action_items:
        return [*lines, "_None recorded._"]
    return lines + [_action_line(item) for item in incident.action_items]


def render_postmortem(
    incident: Incident,
    timeline: Sequence[TimelineEntry],
    now: datetime,
    public_url: str = "",
) -> str:
    """The post-mortem as Markdown, ending in one newline. ``timeline`` is in recorded order."""
    sections = [
        _header(incident, now, public_url),
        _summary(incident, timeline),
        _impact(incident, timeline),
        _key_times(incident, now),
        _roles(incident),
        _timeline(timeline),
        _actions(incident),
        ["## Follow-up questions", "", *_FOLLOW_UP],
        [f"_Generated by tocsin on {format_time(now)}._"],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
