"""Silences by label matchers, and the permission check that every hand-made change to alert
groups and silences shares.

Acknowledging or silencing a group, and making or ending a silence, is the policy's ``alerts``
permission (anyone by default; docs/policy.md): :func:`allowed` asks
:func:`~tocsin.domain.permissions.decide` and writes the audit record in the caller's unit of
work, ``denied`` (committed at once) or ``allowed``.
"""

from __future__ import annotations

from datetime import timedelta

from tocsin.domain.alerts import make_silence, set_silenced
from tocsin.domain.errors import InvalidTransition, NotFound
from tocsin.domain.model import Actor
from tocsin.domain.permissions import decide
from tocsin.services.context import Context
from tocsin.services.pipeline import audit_record, deny
from tocsin.services.ports import UnitOfWork
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.alerts import SilenceRow

PERMISSION = "alerts"
MAX_SILENCE = timedelta(days=30)
MAX_MARKED = 1000  # firing groups marked silenced at once; the worker covers any beyond
_FIRING = ("firing", "acknowledged")


async def allowed(ctx: Context, uow: UnitOfWork, actor: Actor, command: str, detail: str) -> None:
    """Check the ``alerts`` permission for ``command`` and audit it; raises
    :class:`~tocsin.domain.errors.PermissionDenied` (audited) when refused."""
    now = ctx.clock()
    decision = decide(ctx.policy, PERMISSION, actor, None)
    if not decision.allowed:
        raise await deny(uow, actor, command, None, decision.reason, now, detail)
    record = audit_record(actor, command, None, "allowed", decision.reason, now, detail)
    await uow.audit.append(record)


def check_length(length: timedelta) -> None:
    if not timedelta(0) < length <= MAX_SILENCE:
        raise InvalidTransition("a silence lasts between a minute and 30 days")


async def create_silence(
    ctx: Context, actor: Actor, matchers: str, length: timedelta, comment: str = ""
) -> SilenceRow:
    """Silence every alert whose labels match ``matchers`` (``team="payments",severity=~"crit.*"``)
    from now for ``length``. Firing groups it covers show as silenced at once (their paging
    stops); the worker checks it for every body from now on."""
    check_length(length)
    now = ctx.clock()
    silence = make_silence(
        now, now + length, matchers=matchers, comment=comment[:500], created_by=actor.key
    )
    shown = ",".join(str(m) for m in silence.matchers)
    async with ctx.uow() as uow:
        await allowed(ctx, uow, actor, "silence", f"{shown} for {length}")
        silence_id = await uow.silences.add(silence, now)
        for kept in await uow.alert_groups.list(statuses=_FIRING, limit=MAX_MARKED):
            if kept.group.firing and silence.covers(kept.group.common_labels, kept.id):
                group = set_silenced(kept.group, True)
                await uow.alert_groups.save(
                    StoredGroup(group, kept.incident, kept.action, kept.auto_resolve)
                )
        await uow.commit()
    return SilenceRow(silence_id, silence, now)


async def list_silences(ctx: Context, *, expired: bool = False) -> list[SilenceRow]:
    """Silences not over yet (``expired``: the ended ones too), newest first."""
    async with ctx.uow(read_only=True) as uow:
        return await uow.silences.list(ctx.clock(), expired=expired)


async def expire_silence(ctx: Context, actor: Actor, silence_id: int) -> SilenceRow:
    """End a silence now; the alerts it covered page, propose and declare again."""
    async with ctx.uow() as uow:
        await allowed(ctx, uow, actor, "unsilence", f"silence #{silence_id}")
        ended = await uow.silences.expire(silence_id, ctx.clock())
        if ended is None:
            raise NotFound(f"There is no active silence #{silence_id}.")
        await uow.commit()
    return ended


def silence_dict(row: SilenceRow) -> dict[str, object]:
    """``id``, ``matchers`` (as typed back), ``group`` (or null), ``starts_at``, ``ends_at``,
    ``comment``, ``created_by``."""
    silence = row.silence
    return {
        "id": row.id,
        "matchers": ",".join(str(m) for m in silence.matchers),
        "group": silence.group_id,
        "starts_at": silence.starts_at.isoformat(),
        "ends_at": silence.ends_at.isoformat(),
        "comment": silence.comment,
        "created_by": silence.created_by,
    }
