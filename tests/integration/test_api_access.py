"""Access control: tokens stored hashed, the token and user CLI, scopes as policy admins, and
failed authentication rate-limited per client IP (in-process, and shared through Redis)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tocsin.adapters.cli.access import token, user
from tocsin.adapters.web.api.mount import access_routes, build_limiter
from tocsin.adapters.web.api.ratelimit import FailureLimiter, MemoryLimiter, RedisLimiter
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.errors import InvalidTransition, NotFound, ParseError
from tocsin.domain.model import Actor
from tocsin.domain.permissions import decide
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.services.access.principal import Principal, acting_context, admin_policy
from tocsin.services.access.tokens import (
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from tocsin.services.access.users import create_user, login
from tocsin.services.context import Context
from tocsin.storage import tables
from tocsin.storage.db import Database

OPERATOR = Actor("cli", "root", "root")


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def app_client(ctx: Context, limiter: FailureLimiter, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False, limiter=limiter)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://tocsin.test")


WRONG = {"Authorization": "Bearer tocsin_wrong-token"}


# --- tokens ------------------------------------------------------------------------------
async def test_tokens_are_stored_hashed(ctx: Context) -> None:
    """Only the SHA-256 and a short prefix are stored; the secret authenticates as api:<name>."""
    row, secret = await create_token(ctx, OPERATOR, "deploy-bot", "write")
    assert secret.startswith("tocsin_")
    assert len(secret) > 40
    async with ctx.uow(read_only=True) as uow:
        stored = (await uow.connection.execute(sa.select(tables.api_tokens))).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(value) for value in stored.values()}
    assert secret.startswith(stored["prefix"])
    assert len(stored["prefix"]) < 16
    principal = await authenticate_token(ctx, secret)
    assert principal == Principal(Actor("api", "deploy-bot", "deploy-bot"), "write")
    assert row.scope == "write"


async def test_token_names_revoke_and_reuse(ctx: Context) -> None:
    """An active name cannot be taken twice; revoking stops the token at once and frees the
    name; bad names and scopes are refused with a sentence."""
    _, first = await create_token(ctx, OPERATOR, "ci", "read")
    with pytest.raises(InvalidTransition, match="already exists"):
        await create_token(ctx, OPERATOR, "ci", "write")
    await revoke_token(ctx, OPERATOR, "ci")
    assert await authenticate_token(ctx, first) is None
    with pytest.raises(NotFound):
        await revoke_token(ctx, OPERATOR, "ci")
    _, second = await create_token(ctx, OPERATOR, "ci", "admin")
    assert (await authenticate_token(ctx, second)) is not None
    assert [(t.name, t.scope, t.revoked_at) for t in await list_tokens(ctx)] == [
        ("ci", "admin", None)
    ]
    with pytest.raises(ParseError, match="not a valid token name"):
        await create_token(ctx, OPERATOR, "has space", "read")
    with pytest.raises(ParseError, match="not a scope"):
        await create_token(ctx, OPERATOR, "x", "root")


async def test_users_log_in_with_argon2(ctx: Context) -> None:
    """Passwords are argon2 hashes; a right password gives the user's principal (admin scope for
    --admin users), a wrong one or an unknown user gives None; short passwords are refused."""
    row = await create_user(ctx, OPERATOR, "alice", "correct horse battery", admin=True)
    assert row.password_hash.startswith("$argon2id$")
    alice = await login(ctx, "alice", "correct horse battery")
    assert alice == Principal(Actor("web", "alice", "alice"), "admin")
    assert await login(ctx, "alice", "wrong password!") is None
    assert await login(ctx, "mallory", "correct horse battery") is None
    with pytest.raises(ParseError, match="too short"):
        await create_user(ctx, OPERATOR, "bob", "short")
    with pytest.raises(InvalidTransition):
        await create_user(ctx, OPERATOR, "alice", "another long password")


def test_admin_scope_is_expressed_through_the_policy() -> None:
    """An admin principal's context carries a policy listing it under admins, so decide() allows
    it everything; the original policy and other principals are unchanged."""
    policy = default_policy()
    actor = Actor("api", "root-token")
    extended = admin_policy(policy, actor)
    assert decide(extended, "resolve", actor, None).reason == "admin"
    assert not decide(policy, "resolve", actor, None).allowed
    assert not policy.is_admin(actor)
    ctx = Context(db=None, policy=policy)  # type: ignore[arg-type]
    assert acting_context(ctx, Principal(actor, "write")) is ctx
    assert acting_context(ctx, Principal(actor, "admin")).policy.is_admin(actor)


# --- the CLI -----------------------------------------------------------------------------------
def test_cli_token_create_prints_the_token_last(cli_db: str) -> None:
    """`tocsin token create` prints the token once as the last word; list shows only its prefix;
    revoke works; an unknown name fails with one line and a non-zero exit."""
    runner = CliRunner()
    created = runner.invoke(token, ["create", "--name", "bot", "--scope", "write"])
    assert created.exit_code == 0, created.output
    secret = created.output.split()[-1]
    assert secret.startswith("tocsin_")
    listed = runner.invoke(token, ["list"])
    assert "bot  write  tocsin_" in listed.output
    assert secret not in listed.output
    assert runner.invoke(token, ["revoke", "bot"]).exit_code == 0
    missing = runner.invoke(token, ["revoke", "bot"])
    assert missing.exit_code != 0
    assert "no active token" in missing.output
    assert len(missing.output.strip().splitlines()) == 1


def test_cli_user_create_reads_the_password_from_stdin(cli_db: str) -> None:
    """`tocsin user create NAME --admin` takes the password from standard input; the user can
    then sign in; a too-short password is refused with one line."""
    runner = CliRunner()
    made = runner.invoke(user, ["create", "carol", "--admin"], input="a long enough secret\n")
    assert made.exit_code == 0, made.output
    assert 'admin "carol"' in made.output
    short = runner.invoke(user, ["create", "dave"], input="short\n")
    assert short.exit_code != 0
    assert "too short" in short.output
    assert "carol  admin" in runner.invoke(user, ["list"]).output

    async def check() -> Principal | None:
        database = Database(cli_db)
        try:
            return await login(Context(db=database, policy=default_policy()), "carol",
                               "a long enough secret")  # fmt: skip
        finally:
            await database.dispose()

    principal = asyncio.run(check())
    assert principal is not None
    assert principal.scope == "admin"


# --- rate limiting -----------------------------------------------------------------------------
async def test_memory_limiter_token_bucket() -> None:
    """Each failure takes a token; with none left the wait is until one refills; keys are
    independent and the number of keys is bounded."""
    ticks = Ticks()
    limiter = MemoryLimiter(3, 0.5, clock=ticks, max_keys=2)
    assert await limiter.retry_after("a") == 0
    assert [await limiter.failed("a") for _ in range(3)] == [0, 0, 2]
    assert await limiter.retry_after("a") == 2
    assert await limiter.retry_after("b") == 0
    ticks.now += 2
    assert await limiter.retry_after("a") == 0
    await limiter.failed("b")
    await limiter.failed("c")
    assert await limiter.retry_after("a") == 0  # "a" was the least recently used: dropped


async def test_failed_authentication_is_rate_limited(ctx: Context) -> None:
    """After the allowed failures an address gets 429 with Retry-After, even with a valid token;
    another address is unaffected."""
    _, secret = await create_token(ctx, OPERATOR, "real", "read")
    good = {"Authorization": f"Bearer {secret}"}
    limiter = MemoryLimiter(3, 0.01)
    async with app_client(ctx, limiter) as client:
        statuses = [(await client.get("/api/v1/me", headers=WRONG)).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        blocked = await client.get("/api/v1/me", headers=good)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert blocked.json()["type"].endswith("rate-limited")
    async with app_client(ctx, limiter, ip="198.51.100.1") as elsewhere:
        assert (await elsewhere.get("/api/v1/me", headers=good)).status_code == 200


async def test_missing_token_does_not_count_as_a_failure(ctx: Context) -> None:
    """Requests without any credentials get 401 but never use up the address's tries."""
    async with app_client(ctx, MemoryLimiter(1, 0.01)) as client:
        statuses = [(await client.get("/api/v1/me")).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]


@pytest.fixture
async def redis_limiters(redis_url: str) -> AsyncIterator[tuple[RedisLimiter, RedisLimiter]]:
    from tocsin.storage.redis import connect

    prefix = f"tocsin:test:{uuid.uuid4().hex}:"
    first, second = connect(redis_url), connect(redis_url)
    try:
        yield (
            RedisLimiter(first, 3, 0.5, prefix=prefix),
            RedisLimiter(second, 3, 0.5, prefix=prefix),
        )
    finally:
        keys = [key async for key in first.scan_iter(match=prefix + "*")]
        if keys:
            await first.delete(*keys)
        await first.aclose()
        await second.aclose()


async def test_redis_limiter_is_shared_between_replicas(
    redis_limiters: tuple[RedisLimiter, RedisLimiter],
) -> None:
    """Failures counted by one replica's limiter block the address on another replica's, and the
    tries come back with time; other addresses are untouched."""
    one, two = redis_limiters
    clock = Ticks()
    one.clock = two.clock = clock
    assert await one.failed("203.0.113.9") == 0
    assert await two.failed("203.0.113.9") == 0
    assert await one.failed("203.0.113.9") == 2
    assert await two.retry_after("203.0.113.9") == 2
    assert await two.retry_after("203.0.113.10") == 0
    clock.now += 2
    assert await one.retry_after("203.0.113.9") == 0


async def test_redis_limiter_falls_back_in_process(redis_url: str) -> None:
    """With Redis unreachable the limiter still limits, in this process."""
    del redis_url  # runs with the Redis suite, like its siblings
    limiter = build_limiter("redis://127.0.0.1:1/0")
    assert isinstance(limiter, RedisLimiter)
    waits = [await limiter.failed("203.0.113.5") for _ in range(11)]
    assert waits[:9] == [0] * 9
    assert waits[9] >= 1
    assert await limiter.retry_after("203.0.113.5") >= 1
    await limiter.client.aclose()


async def test_redis_rate_limit_spans_two_app_instances(ctx: Context, redis_url: str) -> None:
    """Two app instances sharing Redis: wrong tokens sent to one make the other answer 429."""
    runtime = Runtime()
    first = build_limiter(redis_url, runtime)
    second = build_limiter(redis_url, runtime)
    ip = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    try:
        async with app_client(ctx, first, ip) as replica_a:
            for _ in range(10):
                assert (await replica_a.get("/api/v1/me", headers=WRONG)).status_code == 401
        async with app_client(ctx, second, ip) as replica_b:
            answer = await replica_b.get("/api/v1/me", headers=WRONG)
        assert answer.status_code == 429
        assert int(answer.headers["retry-after"]) >= 1
    finally:
        assert isinstance(first, RedisLimiter)
        await first.client.delete(first.prefix + ip)
        await runtime.close()
