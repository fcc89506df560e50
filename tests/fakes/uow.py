"""An in-memory unit of work for unit-testing the services without a database.

``FakeUnitOfWork`` implements :class:`tocsin.services.ports.UnitOfWork` over a ``FakeData``
shared by every unit of one test, with transactions: a unit works on a copy of the committed
data and only ``commit()`` puts its copy back, so leaving without commit (or an exception)
changes nothing, as on the database. ``fake_context()`` gives a :class:`Context` whose
``units`` factory opens these.

The incident command path is faked in full (incidents, timeline, audit chain, outbox queueing,
dedup, timers, overrides, chat references). The stores of the status page, scheduled
maintenance, the API's accounts and its paged reads, and the delivery side of the outbox are
not: touching them fails the test with
:class:`NotFaked`, which says to test that behaviour against the database.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, cast

from tocsin.domain.audit import GENESIS_HASH, AuditEntry, AuditRecord, chain
from tocsin.domain.effects import Effect
from tocsin.domain.model import Incident, Status, TimelineEntry
from tocsin.domain.oncall import Override
from tocsin.domain.person_edits import PersonEdit
from tocsin.domain.policy import Policy
from tocsin.services.context import Context, utcnow
from tocsin.services.ports import (
    AlertGroups,
    AlertInbox,
    ChatRefs,
    Integrations,
    Maintenances,
    Monitors,
    Reads,
    Silences,
    StatusPageData,
    Subscribers,
    Tokens,
    Users,
)
from tocsin.storage.db import Database
from tocsin.storage.incidents import ConcurrentUpdate
from tocsin.storage.outbox import OutboxRow
from tocsin.storage.timers import CANCELLED, PENDING, Timer


class NotFaked(AssertionError):
    """The code under test reached a store the fake does not model."""


@dataclass(frozen=True)
class Queued:
    """One outbox row as the fake keeps it: the effect and when it falls due."""

    effect: Effect
    due_at: datetime


@dataclass
class FakeData:
    """The committed state: what a real database would hold between units of work."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    timeline: list[tuple[int, TimelineEntry]] = field(default_factory=list)  # (incident, entry)
    audit: list[AuditEntry] = field(default_factory=list)
    outbox: list[Queued] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    timers: dict[str, Timer] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    refs: dict[tuple[int, str, str], str] = field(default_factory=dict)
    spent_links: dict[str, tuple[int, str]] = field(default_factory=dict)  # nonce → (inc, who)
    person_edits: dict[str, PersonEdit] = field(default_factory=dict)
    counter: int = 0
    commits: int = 0

    def effects(self, incident: int | None = None) -> list[Effect]:
        """The queued effects, oldest first (of one incident when given)."""
        return [q.effect for q in self.outbox if incident is None or q.effect.incident == incident]


class _Store:
    def __init__(self, unit: FakeUnitOfWork) -> None:
        self._unit = unit

    @property
    def data(self) -> FakeData:
        return self._unit.working


class FakeIncidents(_Store):
    async def next_number(self) -> int:
        self.data.counter += 1
        return self.data.counter

    async def add(self, incident: Incident) -> None:
        self.data.incidents[incident.number] = copy.deepcopy(incident)

    async def get(self, number: int, *, for_update: bool = False) -> Incident | None:
        found = self.data.incidents.get(number)
        return copy.deepcopy(found) if found is not None else None

    async def save(self, incident: Incident) -> None:
        stored = self.data.incidents.get(incident.number)
        if stored is None or stored.version != incident.version:
            raise ConcurrentUpdate(f"{incident.ref} was changed by someone else; try again.")
        incident.version += 1
        self.data.incidents[incident.number] = copy.deepcopy(incident)

    async def mark_published(self, number: int, at: datetime) -> None:
        stored = self.data.incidents[number]
        if stored.published_at is None:
            stored.published_at = at

    async def list(
        self, *, open_only: bool = True, limit: int = 50, offset: int = 0
    ) -> list[Incident]:
        found = sorted(self.data.incidents.values(), key=lambda i: -i.number)
        if open_only:
            found = [i for i in found if i.status is not Status.RESOLVED]
        return copy.deepcopy(found[offset : offset + limit])


class FakeTimeline(_Store):
    async def append(self, number: int, entries: Sequence[TimelineEntry]) -> None:
        self.data.timeline.extend((number, entry) for entry in entries)

    async def newest_id(self) -> int | None:
        return len(self.data.timeline) or None

    async def list(self, number: int) -> list[TimelineEntry]:
        return [entry for incident, entry in self.data.timeline if incident == number]


class FakeAuditLog(_Store):
    async def append(self, record: AuditRecord) -> AuditEntry:
        seq, prev = await self.head()
        entry = chain(seq + 1, record, prev)
        self.data.audit.append(entry)
        return entry

    async def head(self) -> tuple[int, str]:
        last = self.data.audit[-1] if self.data.audit else None
        return (last.seq, last.hash) if last else (0, GENESIS_HASH)

    async def entries(self, *, batch: int = 1000) -> AsyncIterator[AuditEntry]:
        for entry in list(self.data.audit):
            yield entry

    async def recent(self, limit: int = 100, incident: int | None = None) -> list[AuditEntry]:
        found = [e for e in self.data.audit if incident is None or e.record.incident == incident]
        return found[::-1][:limit]


class FakeOutbox(_Store):
    """Queueing only; the delivery side (rows, get, requeue) is not faked."""

    async def add(self, effects: Sequence[Effect], now: datetime) -> int:
        known = {q.effect.key for q in self.data.outbox}
        new = []
        for effect in effects:
            if effect.key not in known:
                known.add(effect.key)
                new.append(Queued(effect, now + timedelta(seconds=effect.delay_seconds)))
        self.data.outbox.extend(new)
        return len(new)

    async def get(self, row_id: int) -> OutboxRow | None:
        raise NotFaked("outbox rows: test delivery against the database")

    async def rows(self, states: tuple[str, ...] = (), limit: int = 50) -> list[OutboxRow]:
        raise NotFaked("outbox rows: test delivery against the database")

    async def requeue(self, row_ids: list[int] | None, now: datetime) -> int:
        raise NotFaked("outbox requeue: test delivery against the database")


class FakeDedup(_Store):
    async def first_time(self, key: str, now: datetime) -> bool:
        fresh = key not in self.data.seen
        self.data.seen.add(key)
        return fresh


class FakeTimers(_Store):
    async def schedule(
        self,
        key: str,
        kind: str,
        due_at: datetime,
        *,
        incident: int | None = None,
        payload: Mapping[str, Any] | None = None,
        replace: bool = False,
    ) -> bool:
        known = self.data.timers.get(key)
        if known is not None and not replace:
            return False
        number = known.id if known else len(self.data.timers) + 1
        self.data.timers[key] = Timer(number, key, kind, incident, due_at, dict(payload or {}))
        return True

    async def cancel(self, key: str) -> bool:
        known = self.data.timers.get(key)
        if known is None or known.state != PENDING:
            return False
        self.data.timers[key] = replace(known, state=CANCELLED)
        return True

    async def delete(self, key: str) -> bool:
        return self.data.timers.pop(key, None) is not None

    async def cancel_for_incident(self, incident: int, kinds: Collection[str] | None = None) -> int:
        hit = [
            t
            for t in self.data.timers.values()
            if t.incident == incident and t.state == PENDING and (kinds is None or t.kind in kinds)
        ]
        for timer in hit:
            self.data.timers[timer.key] = replace(timer, state=CANCELLED)
        return len(hit)

    async def get(self, key: str) -> Timer | None:
        return self.data.timers.get(key)

    def _due(self, kinds: Collection[str]) -> list[Timer]:
        pending = [t for t in self.data.timers.values() if t.state == PENDING and t.kind in kinds]
        return sorted(pending, key=lambda t: (t.due_at, t.id))

    async def claim_due(self, kinds: Collection[str], now: datetime, worker: str) -> Timer | None:
        due = [t for t in self._due(kinds) if t.due_at <= now]
        if not due:
            return None
        fired = replace(due[0], state="fired", fired_at=now, claimed_by=worker)
        self.data.timers[fired.key] = fired
        return fired

    async def next_due(self, kinds: Collection[str]) -> datetime | None:
        due = self._due(kinds)
        return due[0].due_at if due else None

    async def pending_before(self, kind: str, timer_id: int) -> bool:
        return any(t.id < timer_id for t in self._due([kind]))


class FakeOverrides(_Store):
    async def add(
        self,
        schedule: str,
        person: str,
        start: datetime,
        end: datetime,
        *,
        created_by: str,
        now: datetime,
        reason: str = "",
    ) -> Override:
        made = Override(
            len(self.data.overrides) + 1, schedule, person, start, end, created_by, now, reason
        )
        self.data.overrides.append(made)
        return made

    async def between(
        self, schedules: Collection[str], start: datetime, end: datetime
    ) -> list[Override]:
        return [
            o
            for o in self.data.overrides
            if o.schedule in schedules and o.end > start and o.start < end
        ]

    async def upcoming(self, now: datetime, limit: int = 200) -> list[Override]:
        found = [o for o in self.data.overrides if o.end > now]
        return sorted(found, key=lambda o: (o.start, o.id))[:limit]

    async def get(self, override_id: int) -> Override | None:
        return next((o for o in self.data.overrides if o.id == override_id), None)

    async def remove(self, override_id: int) -> bool:
        before = len(self.data.overrides)
        self.data.overrides = [o for o in self.data.overrides if o.id != override_id]
        return len(self.data.overrides) < before


class FakeChatRefs(_Store):
    async def incident_for_channel(self, destination: str, channel_id: str) -> int | None:
        found = [
            n
            for (n, dest, name), value in self.data.refs.items()
            if dest == destination and name == "channel" and value == channel_id
        ]
        return max(found) if channel_id and found else None

    async def of(self, incident: int, destination: str) -> dict[str, str]:
        return {
            name: value
            for (n, dest, name), value in self.data.refs.items()
            if n == incident and dest == destination
        }

    async def set(self, incident: int, destination: str, name: str, value: str) -> None:
        self.data.refs[(incident, destination, name)] = value


class FakeAckLinks(_Store):
    async def spend(self, nonce: str, incident: int, person: str, now: datetime) -> bool:
        del now
        if nonce in self.data.spent_links:
            return False
        self.data.spent_links[nonce] = (incident, person)
        return True

    async def prune(self, before: datetime, limit: int) -> int:
        del before, limit
        return 0  # the fake keeps no time of use; pruning is tested against the database


class FakePeople(_Store):
    async def edits(self) -> dict[str, PersonEdit]:
        return dict(self.data.person_edits)

    async def save(self, edit: PersonEdit, by: str, now: datetime) -> None:
        del by, now
        self.data.person_edits[edit.person] = edit


class FakeSubscribers(_Store):
    """Only what the command path reads: nobody has subscribed in the in-memory data. The rest
    of the subscribers' store is tested against the database."""

    async def confirmed(self, *, after: int = 0, limit: int | None = None) -> list[Any]:
        del after, limit
        return []

    async def has_confirmed(self) -> bool:
        return False

    def __getattr__(self, method: str) -> Any:
        raise NotFaked(f"uow.subscribers.{method}: test this against the database")


class _Unfaked:
    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, method: str) -> Any:
        raise NotFaked(f"uow.{self.name}.{method}: test this against the database")


class FakeUnitOfWork:
    """One unit of work on ``data``. Its stores are thin views on the unit's working copy."""

    def __init__(self, data: FakeData, *, read_only: bool = False) -> None:
        self.data = data
        self.read_only = read_only
        self._working: FakeData | None = None
        self.incidents = FakeIncidents(self)
        self.timeline = FakeTimeline(self)
        self.audit = FakeAuditLog(self)
        self.outbox = FakeOutbox(self)
        self.dedup = FakeDedup(self)
        self.timers = FakeTimers(self)
        self.overrides = FakeOverrides(self)
        self.refs: ChatRefs = FakeChatRefs(self)
        self.ack_links = FakeAckLinks(self)
        self.people = FakePeople(self)
        self.status = cast(StatusPageData, _Unfaked("status"))
        self.users = cast(Users, _Unfaked("users"))
        self.tokens = cast(Tokens, _Unfaked("tokens"))
        self.reads = cast(Reads, _Unfaked("reads"))
        self.maintenance = cast(Maintenances, _Unfaked("maintenance"))
        self.subscribers = cast(Subscribers, FakeSubscribers(self))
        self.integrations = cast(Integrations, _Unfaked("integrations"))
        self.alert_inbox = cast(AlertInbox, _Unfaked("alert_inbox"))
        self.alert_groups = cast(AlertGroups, _Unfaked("alert_groups"))
        self.silences = cast(Silences, _Unfaked("silences"))
        self.monitors = cast(Monitors, _Unfaked("monitors"))

    @property
    def working(self) -> FakeData:
        if self._working is None:
            raise RuntimeError("the unit of work is not open")
        return self._working

    async def __aenter__(self) -> FakeUnitOfWork:
        self._working = copy.deepcopy(self.data)
        return self

    async def commit(self) -> None:
        if self.read_only:
            raise AssertionError("commit on a read-only unit of work")
        committed = self.working
        committed.commits += 1
        self.data.__dict__.update(copy.deepcopy(committed).__dict__)

    async def rollback(self) -> None:
        self._working = copy.deepcopy(self.data)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None


def fake_context(
    policy: Policy,
    *,
    clock: Callable[[], datetime] = utcnow,
    destinations: frozenset[str] = frozenset(),
    data: FakeData | None = None,
) -> tuple[Context, FakeData]:
    """A Context whose units of work are in memory, and the data they share. ``ctx.db`` is
    absent (None): a service that reaches for the database directly fails loudly."""
    shared = data if data is not None else FakeData()

    def units(*, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(shared, read_only=read_only)

    ctx = Context(
        db=cast(Database, None),
        policy=policy,
        clock=clock,
        destinations=destinations,
        units=units,
    )
    return ctx, shared
