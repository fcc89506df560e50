"""Acknowledging through a link: spend the token once, then ``ack`` as the person it names.

The token format and its checks are in :mod:`tocsin.services.ack_tokens`; docs/oncall.md
("Acknowledge links") describes the links.
"""

from __future__ import annotations

from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.services.ack_tokens import AckLinkError, read_token
from tocsin.services.context import Context, Outcome
from tocsin.services.dispatch import execute

__all__ = ["acknowledge_by_link"]


async def acknowledge_by_link(ctx: Context, secret: str, token: str) -> Outcome:
    """Spend the token and acknowledge its incident as its person (the ``ack`` command)."""
    now = ctx.clock()
    claim = read_token(secret, token, now)
    async with ctx.uow() as uow:
        fresh = await uow.ack_links.spend(claim.nonce, claim.incident, claim.person, now)
        await uow.commit()
    if not fresh:
        raise AckLinkError("This acknowledge link was already used.")
    actor = Actor.from_key(claim.person)
    return await execute(ctx, actor, parse(f"ack INC-{claim.incident}"))
