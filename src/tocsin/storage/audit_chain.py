"""The audit chain verified end to end on an open unit of work, including that nothing was cut
off its tail: used by ``tocsin audit verify`` (through :mod:`tocsin.services.audit_check`) and by
:func:`tocsin.storage.backup.restore` inside its transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from tocsin.domain.audit import GENESIS_HASH, AuditEntry, verify
from tocsin.storage import tables as t

if TYPE_CHECKING:
    from tocsin.storage.uow import UnitOfWork

BATCH = 1000


async def check_chain(uow: UnitOfWork) -> tuple[str | None, int]:
    """Return (the first problem or None, how many entries were read) on an open unit of work.
    Streams in batches."""
    prev_hash, next_seq, count = GENESIS_HASH, 1, 0
    head = (
        await uow.connection.execute(
            sa.select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == 1)
        )
    ).one()
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
    if next_seq - 1 != head.seq or prev_hash != head.hash:
        return (
            f"the log ends at entry {next_seq - 1} but the chain head records entry {head.seq} "
            "(entries removed from the end?)",
            count,
        )
    return None, count
