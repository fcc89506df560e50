"""Verify the audit chain end to end, including that nothing was cut off its tail."""

from __future__ import annotations

from tocsin.domain.audit import GENESIS_HASH, AuditEntry, verify
from tocsin.services.context import Context

BATCH = 1000


async def check_audit(ctx: Context) -> tuple[str | None, int]:
    """Return (the first problem or None, how many entries were read). Streams in batches."""
    prev_hash, next_seq, count = GENESIS_HASH, 1, 0
    async with ctx.uow(read_only=True) as uow:
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
