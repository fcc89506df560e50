"""A unit of work that joins an open one: use cases called from inside a transaction (a timer
handler) write into it, and it commits or rolls back with its owner.

The alert processor runs inside the timer runner's transaction; it declares, notes and resolves
incidents through :func:`tocsin.services.dispatch.execute` with a context whose units are this
wrapper, so an incident and the inbox row that caused it commit together, or not at all.
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any

from tocsin.services.context import Context
from tocsin.services.ports import UnitOfWork


class JoinedUnit:
    """Delegates every store to ``inner``; entering, leaving and committing do nothing (the owner
    commits). A rollback is not the joiner's to make: it raises, and the owner's rolls back."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> JoinedUnit:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def commit(self) -> None:
        return None

    async def rollback(self) -> None:
        raise RuntimeError("a joined unit of work cannot roll back its owner's transaction")


def joined_context(ctx: Context, uow: UnitOfWork) -> Context:
    """``ctx`` whose every unit of work is ``uow`` (reads included)."""
    clone = copy.copy(ctx)  # shares the list cache and the on_commit hooks
    unit = JoinedUnit(uow)

    def units(*, read_only: bool = False) -> UnitOfWork:
        del read_only
        return unit

    clone.units = units
    return clone
