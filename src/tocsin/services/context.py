"""What every use case is given (``Context``) and what it gives back (``Outcome``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tocsin.clock import utcnow
from tocsin.domain.model import Incident, TimelineEntry
from tocsin.domain.policy import Policy
from tocsin.services.address_guard import AddressGuard
from tocsin.services.list_cache import ListCache
from tocsin.services.ports import UnitOfWork
from tocsin.storage.db import Database
from tocsin.storage.uow import UnitOfWork as SqlUnitOfWork


class UnitFactory(Protocol):
    """Opens a unit of work: ``factory(read_only=True)`` for a read."""

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


@dataclass
class Context:
    """Built once at start-up by the composition root and shared by every surface.

    ``destinations`` names the outside systems that are switched on ("slack", "discord",
    "statuspage", "pagerduty"); effects are planned only for those.

    Building one registers its list cache in ``on_commit``; derive a context for one caller with
    :meth:`with_policy`, never ``dataclasses.replace`` (which would build and register another).

    Every unit of work comes from :meth:`uow`: a SQL unit on ``db`` unless ``units`` is given,
    a factory such as ``tests/fakes/uow.py``'s in-memory one (the services see only the
    :class:`~tocsin.services.ports.UnitOfWork` protocol).
    """

    db: Database
    policy: Policy
    clock: Callable[[], datetime] = utcnow
    destinations: frozenset[str] = frozenset()
    public_url: str = ""
    # Called after a change commits (the delivery workers register their wake-up here).
    on_commit: list[Callable[[], None]] = field(default_factory=list)
    units: UnitFactory | None = None
    # Resolving monitor hosts and TOCSIN_MONITOR_ALLOW_PRIVATE (docs/monitors.md).
    address_guard: AddressGuard = field(default_factory=AddressGuard)

    lists: ListCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lists = ListCache(self._timeline_marker)
        self.on_commit.append(self.lists.invalidate)

    async def _timeline_marker(self) -> int | None:
        async with self.uow(read_only=True) as uow:
            return await uow.timeline.newest_id()

    def with_policy(self, policy: Policy) -> Context:
        """This context under another policy, sharing its list cache and ``on_commit`` hooks."""
        clone = copy.copy(self)  # no __init__: nothing is registered again
        clone.policy = policy
        return clone

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        if self.units is not None:
            return self.units(read_only=read_only)
        return SqlUnitOfWork(self.db, read_only=read_only)

    def committed(self) -> None:
        """Tell the ``on_commit`` hooks that a change (and its outbox rows) committed."""
        for hook in self.on_commit:
            hook()


@dataclass
class Outcome:
    """The result of a command, for any surface to render.

    ``message`` is the human answer; ``public`` says whether it belongs in the channel (True) or
    only in front of the caller (False, ephemeral in chat).
    """

    message: str
    public: bool = False
    incident: Incident | None = None
    incidents: list[Incident] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    document: str = ""
    data: dict[str, Any] = field(default_factory=dict)
