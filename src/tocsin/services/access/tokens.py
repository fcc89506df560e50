"""API tokens: create (the secret is shown once), revoke, list, and authenticate a bearer token.

A token is ``tocsin_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored (a salt or a slow hash adds nothing for a secret that long) with its first characters for
display. Creating and revoking tokens is written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from tocsin.domain.errors import InvalidTransition, NotFound, ParseError
from tocsin.domain.model import Actor
from tocsin.services.access.principal import SCOPES, Principal
from tocsin.services.context import Context
from tocsin.services.pipeline import audit_record
from tocsin.storage.access import TokenRow

TOKEN_PREFIX = "tocsin_"  # noqa: S105 - a public marker, not a secret
SHOWN_CHARACTERS = 12
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token (reads should not all write)."""


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str, what: str = "token name") -> str:
    if not NAME_RE.fullmatch(name):
        raise ParseError(
            f"{name!r} is not a valid {what}: use 1 to 64 letters, digits, dots, dashes or "
            "underscores, starting with a letter or digit."
        )
    return name


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ParseError(f"{scope!r} is not a scope; use read, write or admin.")
    return scope


async def create_token(ctx: Context, actor: Actor, name: str, scope: str) -> tuple[TokenRow, str]:
    """A new token named ``name``; returns its record and the secret (shown only this once).

    The name of a revoked token may be used again; an active token's may not.
    """
    check_name(name)
    check_scope(scope)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with ctx.uow() as uow:
        now = ctx.clock()
        tokens = uow.tokens
        existing = await tokens.by_name(name)
        if existing is not None and existing.revoked_at is None:
            raise InvalidTransition(f'A token named "{name}" already exists; revoke it first.')
        if existing is not None:
            await tokens.delete(name)
        row = TokenRow(name, scope, secret[:SHOWN_CHARACTERS], hash_token(secret), now, actor.key)
        await tokens.add(row)
        await uow.audit.append(
            audit_record(actor, "token", None, "allowed", "admin", now, f"create {name} {scope}")
        )
        await uow.commit()
    return row, secret


async def revoke_token(ctx: Context, actor: Actor, name: str) -> None:
    async with ctx.uow() as uow:
        now = ctx.clock()
        if not await uow.tokens.revoke(name, now):
            raise NotFound(
                f'There is no active token named "{name}"; `tocsin token list` shows them.'
            )
        await uow.audit.append(
            audit_record(actor, "token", None, "allowed", "admin", now, f"revoke {name}")
        )
        await uow.commit()


async def list_tokens(ctx: Context) -> list[TokenRow]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.tokens.list()


async def authenticate_token(ctx: Context, secret: str) -> Principal | None:
    """The principal a bearer token stands for, or None (unknown, malformed or revoked)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    digest = hash_token(secret)
    async with ctx.uow(read_only=True) as uow:
        row = await uow.tokens.by_hash(digest)
    if row is None or row.revoked_at is not None:
        return None
    now = ctx.clock()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        async with ctx.uow() as uow:
            await uow.tokens.touch(row.name, now)
            await uow.commit()
    return Principal(Actor("api", row.name, row.name), row.scope)
