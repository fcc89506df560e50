"""The in-memory unit of work stays true to the protocols the services are typed against: the
SQL stores, the fakes and ``tocsin.services.ports`` agree method by method, and a fake unit
commits or rolls back as a whole like the database's."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from fakes.uow import (
    FakeAckLinks,
    FakeAuditLog,
    FakeChatRefs,
    FakeData,
    FakeDedup,
    FakeIncidents,
    FakeOutbox,
    FakeOverrides,
    FakePeople,
    FakeTimeline,
    FakeTimers,
    FakeUnitOfWork,
    NotFaked,
)
from tocsin.domain.model import Actor, Incident, Severity
from tocsin.services import ports
from tocsin.storage.ack_links import AckLinkStore
from tocsin.storage.chat_refs import ChatRefStore
from tocsin.storage.incidents import AuditStore, DedupStore, IncidentStore, TimelineStore
from tocsin.storage.outbox import OutboxStore
from tocsin.storage.overrides import OverrideStore
from tocsin.storage.people import PeopleStore
from tocsin.storage.timers import TimerStore

TRIPLES: list[tuple[type[Any], type[Any], type[Any]]] = [
    (ports.Incidents, IncidentStore, FakeIncidents),
    (ports.Timeline, TimelineStore, FakeTimeline),
    (ports.AuditLog, AuditStore, FakeAuditLog),
    (ports.Outbox, OutboxStore, FakeOutbox),
    (ports.Dedup, DedupStore, FakeDedup),
    (ports.Timers, TimerStore, FakeTimers),
    (ports.Overrides, OverrideStore, FakeOverrides),
    (ports.AckLinks, AckLinkStore, FakeAckLinks),
    (ports.People, PeopleStore, FakePeople),
    (ports.ChatRefs, ChatRefStore, FakeChatRefs),
]
ALICE = Actor("slack", "U0ALICE", "alice")


def _parameters(function: Any) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def _methods(protocol: type[Any]) -> list[str]:
    return [n for n, v in vars(protocol).items() if not n.startswith("_") and callable(v)]


@pytest.mark.parametrize(("protocol", "sql", "fake"), TRIPLES, ids=lambda c: c.__name__)
def test_sql_and_fake_stores_keep_the_protocol_signatures(
    protocol: type[Any], sql: type[Any], fake: type[Any]
) -> None:
    """Every method a protocol names exists on the SQL store and on its fake with the same
    parameters, so a change to one shows up here, not as a fake that silently drifted."""
    names = _methods(protocol)
    assert names
    for name in names:
        expected = _parameters(getattr(protocol, name))
        assert _parameters(getattr(sql, name)) == expected, f"{sql.__name__}.{name}"
        assert _parameters(getattr(fake, name)) == expected, f"{fake.__name__}.{name}"


def test_the_fake_unit_has_every_store_of_the_protocol() -> None:
    """FakeUnitOfWork offers each store attribute of ports.UnitOfWork."""
    unit = FakeUnitOfWork(FakeData())
    wanted = [n for n, v in vars(ports.UnitOfWork).items() if isinstance(v, property)]
    assert len(wanted) == 21  # 15, the alert intake's four (docs/alerts.md), people, monitors
    assert all(hasattr(unit, name) for name in wanted)


async def test_a_fake_unit_left_without_commit_changes_nothing(clock: Any) -> None:
    """Changes made in a unit reach the shared data on commit only; an exception or leaving
    without commit discards them, and an incident read back is a copy."""
    data = FakeData()
    incident, _ = Incident.declare(1, "Checkout is down", Severity.P2, ALICE, clock())
    async with FakeUnitOfWork(data) as uow:
        await uow.incidents.add(incident)
    assert data.incidents == {}

    async def add_then_fail() -> None:
        async with FakeUnitOfWork(data) as uow:
            await uow.incidents.add(incident)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await add_then_fail()
    assert data.incidents == {}
    async with FakeUnitOfWork(data) as uow:
        await uow.incidents.add(incident)
        await uow.commit()
    assert list(data.incidents) == [1]
    async with FakeUnitOfWork(data, read_only=True) as uow:
        loaded = await uow.incidents.get(1)
        assert loaded is not None
        loaded.title = "changed in memory only"
    assert data.incidents[1].title == "Checkout is down"


async def test_stores_that_are_not_faked_say_so() -> None:
    """The status page, account and paged-read stores are not faked: using one fails with
    NotFaked naming it, never with a made-up answer."""
    async with FakeUnitOfWork(FakeData()) as uow:
        with pytest.raises(NotFaked, match=r"uow\.users\.get"):
            await uow.users.get("carol")
