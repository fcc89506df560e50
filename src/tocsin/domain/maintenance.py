"""Scheduled maintenance: a window during which named status page components are being worked
on, announced ahead of time.

A :class:`Maintenance` has a title, the components it affects (names from the policy's
``[[component]]``), a window ``[starts_at, ends_at)`` in UTC, a description and a status:

    scheduled ──start──▶ in_progress ──complete──▶ completed
        │                     │
        └──────cancel─────────┴──▶ cancelled

Durable timers make the ``start`` and ``complete`` moves at the window's edges
(:mod:`tocsin.services.maintenance`); people create, edit and cancel. :func:`validate` checks
what people typed (naming the bad field), :func:`is_active` says whether a maintenance holds its
components ``under_maintenance`` at a moment. Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tocsin.domain.errors import InvalidTransition, ParseError
from tocsin.domain.oncall import parse_when

SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED = "scheduled", "in_progress", "completed", "cancelled"
STATUSES = (SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED)
OPEN = (SCHEDULED, IN_PROGRESS)
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_COMPONENTS = 50
MAX_WINDOW = timedelta(days=31)
# Statuspage's default texts for a maintenance's automatic updates.
SENTENCES = {
    IN_PROGRESS: "Scheduled maintenance is currently in progress. We will provide updates as "
    "necessary.",
    COMPLETED: "The scheduled maintenance has been completed.",
}
CREATE_USAGE = (
    "maintenance create TITLE --start ISO8601 --end ISO8601 [--component NAME]... "
    "[--description TEXT]"
)


class MaintenanceInvalid(ParseError):
    """A field of a maintenance is wrong; ``field`` names it and the message starts with it."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{field}: {what}", CREATE_USAGE)
        self.field = field
        self.what = what


@dataclass(frozen=True, slots=True)
class Maintenance:
    id: int
    title: str
    components: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    status: str = SCHEDULED
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None  # when it went in_progress
    finished_at: datetime | None = None  # when it was completed or cancelled

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class Draft:
    """What a person asks for, checked: every field valid, the window in UTC."""

    title: str
    components: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    description: str


def parse_instant(field: str, text: str, now: datetime) -> datetime:
    """An ISO 8601 time (UTC unless it carries an offset), ``now`` or ``+2h``; in UTC."""
    try:
        return parse_when(text, "UTC", now)
    except ValueError as exc:
        raise MaintenanceInvalid(field, str(exc)) from None


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title or len(title) > MAX_TITLE:
        raise MaintenanceInvalid("title", f"give a title of 1 to {MAX_TITLE} characters")
    return title


def _components(names: Sequence[str], known: Sequence[str]) -> tuple[str, ...]:
    if len(names) > MAX_COMPONENTS:
        raise MaintenanceInvalid("components", f"name at most {MAX_COMPONENTS} components")
    by_fold = {k.casefold(): k for k in known}
    found: list[str] = []
    for name in names:
        match = by_fold.get(" ".join(name.split()).casefold())
        if match is None:
            listed = ", ".join(known) or "none: the policy has no [[component]]"
            raise MaintenanceInvalid(
                "components", f"{name[:60]!r} is not a status page component (known: {listed})"
            )
        if match not in found:
            found.append(match)
    return tuple(found)


def _window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise MaintenanceInvalid("end", "the window must end after it starts")
    if ends_at <= now:
        raise MaintenanceInvalid("end", "the window is wholly in the past")
    if ends_at - starts_at > MAX_WINDOW:
        raise MaintenanceInvalid("end", f"a window lasts at most {MAX_WINDOW.days} days")


def validate(
    title: str,
    components: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    description: str,
    known: Sequence[str],
    now: datetime,
) -> Draft:
    """Check a new or edited maintenance; raises :class:`MaintenanceInvalid` naming the field.
    ``known`` are the status page's component names. A window that has begun but not ended is
    accepted (it starts at once); one wholly in the past is not."""
    text = description.strip()
    if len(text) > MAX_DESCRIPTION:
        raise MaintenanceInvalid("description", f"keep it to {MAX_DESCRIPTION} characters")
    _window(starts_at, ends_at, now)
    return Draft(_title(title), _components(components, known), starts_at, ends_at, text)


# --- transitions ----------------------------------------------------------------------------------
def start(m: Maintenance, now: datetime) -> Maintenance:
    """The window opened (the start timer)."""
    if m.status != SCHEDULED:
        raise InvalidTransition(f"Maintenance #{m.id} is {m.status}; only a scheduled one starts.")
    return replace(m, status=IN_PROGRESS, started_at=now, updated_at=now)


def complete(m: Maintenance, now: datetime) -> Maintenance:
    """The window closed (the end timer). A scheduled one whose start never fired completes too."""
    if not m.is_open:
        raise InvalidTransition(f"Maintenance #{m.id} is already {m.status}.")
    return replace(m, status=COMPLETED, started_at=m.started_at or m.starts_at, finished_at=now,
                   updated_at=now)  # fmt: skip


def cancel(m: Maintenance, now: datetime) -> Maintenance:
    if not m.is_open:
        raise InvalidTransition(f"Maintenance #{m.id} is already {m.status}; nothing to cancel.")
    return replace(m, status=CANCELLED, finished_at=now, updated_at=now)


def edit(m: Maintenance, draft: Draft, now: datetime) -> Maintenance:
    """Apply an edit (checked by :func:`validate`); once started, the start stays as it was."""
    if not m.is_open:
        raise InvalidTransition(f"Maintenance #{m.id} is {m.status}; it can no longer be edited.")
    if m.status == IN_PROGRESS and draft.starts_at != m.starts_at:
        raise MaintenanceInvalid("start", "the maintenance has started; its start cannot move")
    return replace(
        m, title=draft.title, components=draft.components, starts_at=draft.starts_at,
        ends_at=draft.ends_at, description=draft.description, updated_at=now,
    )  # fmt: skip


# --- the window -----------------------------------------------------------------------------------
def is_active(m: Maintenance, now: datetime) -> bool:
    """Whether ``m`` holds its components under maintenance at ``now``: it is in progress, or
    scheduled with ``now`` inside its window (its start timer may not have fired yet); a
    maintenance past its end counts no longer even before its end timer fires."""
    if m.status == IN_PROGRESS:
        return now < m.ends_at
    return m.status == SCHEDULED and m.starts_at <= now < m.ends_at


def under_maintenance(maintenances: Collection[Maintenance], now: datetime) -> frozenset[str]:
    """The components some maintenance holds under maintenance at ``now``."""
    return frozenset(c for m in maintenances if is_active(m, now) for c in m.components)


def alert_components(
    labels: Mapping[str, str], monitor_components: Mapping[str, str]
) -> tuple[str, ...]:
    """The status page components an alert group is about (docs/alerts.md): the names in its
    ``component`` label (comma-separated), and the component of the monitor its ``monitor``
    label names (``monitor_components``: monitor name → component)."""
    names = [n.strip() for n in labels.get("component", "").split(",") if n.strip()]
    monitor = monitor_components.get(labels.get("monitor", ""))
    if monitor:
        names.append(monitor)
    return tuple(dict.fromkeys(names))


def maintenance_reason(components: Collection[str]) -> str:
    """How a group silenced by maintenance shows its reason."""
    return "under maintenance: " + ", ".join(sorted(components))


def is_upcoming(m: Maintenance, now: datetime) -> bool:
    return m.status == SCHEDULED and now < m.starts_at


def shown_status(m: Maintenance, now: datetime) -> str:
    """The status the public page shows at ``now``: the stored one, moved on where a timer is
    about to (a window that has begun shows in progress, one that has ended completed)."""
    if m.is_open and now >= m.ends_at:
        return COMPLETED
    return IN_PROGRESS if is_active(m, now) else m.status


def window_text(starts_at: datetime, ends_at: datetime) -> str:
    """A window as people read it, in UTC: ``2026-03-02 09:00–10:00 UTC``, or with both dates
    (``2026-03-02 23:00 – 2026-03-03 01:00 UTC``) when it ends on another day."""
    start, end = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def revision(m: Maintenance) -> str:
    """Names one edit in the keys of what it makes people be told: when it was made and a digest
    of the title, window and components, so two edits are two messages and the same edit
    queued twice is one."""
    told = "\x1f".join((m.title, m.starts_at.isoformat(), m.ends_at.isoformat(), *m.components))
    at = m.updated_at.isoformat() if m.updated_at else ""
    return f"{at}:{hashlib.sha256(told.encode()).hexdigest()[:12]}"


def is_public(m: Maintenance) -> bool:
    """Cancelled maintenances leave the public page (Statuspage has no such status)."""
    return m.status != CANCELLED
