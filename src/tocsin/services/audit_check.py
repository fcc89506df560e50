"""Verify the audit chain end to end, including that nothing was cut off its tail."""

from __future__ import annotations

from tocsin.services.context import Context
from tocsin.storage.audit_chain import check_chain


async def check_audit(ctx: Context) -> tuple[str | None, int]:
    """Return (the first problem or None, how many entries were read). Streams in batches."""
    async with ctx.uow(read_only=True) as uow:
        return await check_chain(uow)
