"""The audit chain verified end to end on an open unit of work, including that nothing was cut
off its tail: used by ``tocsin audit verify`` (through :mod:`tocsin.services.audit_check`) and by
:func:`tocsin.storage.backup.restore` inside its transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from tocsin.domain.audit import GENESIS_HASH, AuditEntry, verify

BATCH = 1000


class _Audit(Protocol):
    async def head(self) -> tuple[int, str]: ...
    def entries(self, *, batch: int = 1000) -> AsyncIterator[AuditEntry]: ...


class _HasAudit(Protocol):
    @property
    def audit(self) -> _Audit: ...


async def check_chain(uow: _HasAudit) -> tuple[str | None, int]:
    """Return (the first problem or None, how many entries were read) on an open unit of work.
    Streams in batches."""
    prev_hash, next_seq, count = GENESIS_HASH, 1, 0
    head_seq, head_hash = await uow.audit.head()
    batch: list[AuditEntry] = []
    async for entry in uow.audit.entries(batch=BATCH):
        batch.append(entry)
        if len(batch) < BATCH:
            continue
        broken = verify(batch, prev_hash, next_seq)
        if broken is not None:
            return broken.problem, count + len(batch)
        count, prev_hash, next_seq = count + len(batch), batch[-1].hash, batch[-1].seq + 1
        batch = []
    broken = verify(batch, prev_hash, next_seq)
    if broken is not None:
        return broken.problem, count + len(batch)
    if batch:
        count, prev_hash, next_seq = count + len(batch), batch[-1].hash, batch[-1].seq + 1
    if next_seq - 1 != head_seq or prev_hash != head_hash:
        return (
            f"the log ends at entry {next_seq - 1} but the chain head records entry {head_seq} "
            "(entries removed from the end?)",
            count,
        )
    return None, count
