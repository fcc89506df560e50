"""Dashboard users: create (argon2id password hash), delete, list, log in, load a session's user.

Hashing and verifying take tens of milliseconds of CPU on purpose; they run in a worker thread so
the event loop keeps answering. A login for an unknown user verifies against a dummy hash, so the
answer takes as long as a wrong password and does not tell which usernames exist.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tocsin.domain.errors import InvalidTransition, NotFound, ParseError
from tocsin.domain.model import Actor
from tocsin.services.access.principal import ADMIN, WRITE, Principal
from tocsin.services.access.tokens import check_name
from tocsin.services.context import Context
from tocsin.services.pipeline import audit_record
from tocsin.storage.access import UserRow

MIN_PASSWORD = 10
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("tocsin: no such user")


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ParseError(f"The password is too short; use at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise ParseError(f"The password is too long; keep it to {MAX_PASSWORD} characters.")
    return password


def user_principal(user: UserRow) -> Principal:
    return Principal(Actor("web", user.username, user.username), ADMIN if user.is_admin else WRITE)


async def create_user(
    ctx: Context, actor: Actor, username: str, password: str, *, admin: bool = False
) -> UserRow:
    check_name(username, "username")
    check_password(password)
    hashed = await asyncio.to_thread(_HASHER.hash, password)
    async with ctx.uow() as uow:
        now = ctx.clock()
        users = uow.users
        if await users.get(username) is not None:
            raise InvalidTransition(f'A user named "{username}" already exists.')
        row = UserRow(username, hashed, admin, now)
        await users.add(row)
        detail = f"create {username}" + (" admin" if admin else "")
        await uow.audit.append(audit_record(actor, "user", None, "allowed", "admin", now, detail))
        await uow.commit()
    return row


async def delete_user(ctx: Context, actor: Actor, username: str) -> None:
    async with ctx.uow() as uow:
        now = ctx.clock()
        if not await uow.users.delete(username):
            raise NotFound(f'There is no user named "{username}"; `tocsin user list` shows them.')
        detail = f"delete {username}"
        await uow.audit.append(audit_record(actor, "user", None, "allowed", "admin", now, detail))
        await uow.commit()


async def list_users(ctx: Context) -> list[UserRow]:
    async with ctx.uow(read_only=True) as uow:
        return await uow.users.list()


async def load_user(ctx: Context, username: str) -> Principal | None:
    """The principal of a signed-in session, or None when the user no longer exists."""
    async with ctx.uow(read_only=True) as uow:
        user = await uow.users.get(username)
    return user_principal(user) if user is not None else None


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def login(ctx: Context, username: str, password: str) -> Principal | None:
    """The user's principal when the password is right, else None (same time either way)."""
    if len(password) > MAX_PASSWORD or len(username) > 64:
        return None
    async with ctx.uow(read_only=True) as uow:
        user = await uow.users.get(username)
    stored = user.password_hash if user is not None else _dummy_hash()
    if not await asyncio.to_thread(_verify, stored, password) or user is None:
        return None
    upgraded = None
    if _HASHER.check_needs_rehash(stored):
        upgraded = await asyncio.to_thread(_HASHER.hash, password)
    async with ctx.uow() as uow:
        await uow.users.logged_in(username, ctx.clock(), upgraded)
        await uow.commit()
    return user_principal(user)
