"""Signed Discord interactions against tocsin's app, in process (httpx ASGITransport) or over a
real uvicorn. Shared by the Discord integration and e2e tests.

Requests are signed with the generated Ed25519 key pair
(``tests/fixtures/generated/discord_ed25519_vectors.json``), exactly as Discord signs them:
``X-Signature-Ed25519`` over ``X-Signature-Timestamp + raw body``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.applications import Starlette

from fakes import FIXTURES
from fakes.discord_api import APPLICATION_ID, GUILD_ID
from fakes.discord_spec import check_interaction_response
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.domain.policy import default_policy
from tocsin.observability.metrics import create_metrics
from tocsin.platforms.discord.app import DiscordApp
from tocsin.platforms.discord.routes import PATH, discord_routes
from tocsin.platforms.discord.verify import DiscordVerifier, sign
from tocsin.services.context import Context
from tocsin.storage import tables as t

VECTORS_FILE = FIXTURES / "generated" / "discord_ed25519_vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_FILE.read_text())
SEED = VECTORS["private_key_seed_hex"]
PUBLIC_KEY = VECTORS["public_key_hex"]
TIMESTAMP = "1700000000"
GENERAL = "700000000000000400"  # a channel that is no incident's
INC_CHANNEL = "700000000000000401"
ALICE = ("700000000000000005", "alice")
BOB = ("700000000000000006", "bob")
CAROL = ("700000000000000007", "carol")
TABLES = {
    "incidents": t.incidents,
    "timeline": t.timeline,
    "audit_log": t.audit_log,
    "outbox": t.outbox,
    "seen_requests": t.seen_requests,
    "remote_refs": t.remote_refs,
}
_IDS = itertools.count(1)
OPTION_TYPES = {"commander": 6, "owner": 6, "user": 6, "person": 6}


def build_app(ctx: Context, *, budget: float = 2.0) -> tuple[Starlette, DiscordApp]:
    """tocsin's ASGI app (guards included) with the Discord route, verifying with PUBLIC_KEY."""
    metrics = create_metrics(process=False)
    app = DiscordApp(ctx, application_id=APPLICATION_ID, metrics=metrics, budget=budget)
    routes = discord_routes(app, DiscordVerifier(PUBLIC_KEY))
    return create_app(ctx, metrics, Runtime(), routes=routes), app


def signed(body: bytes, timestamp: str = TIMESTAMP) -> dict[str, str]:
    return {**sign(SEED, body, timestamp), "content-type": "application/json"}


def member(user: tuple[str, str]) -> dict[str, Any]:
    return {
        "user": {"id": user[0], "username": user[1], "global_name": user[1].title()},
        "nick": None,
        "roles": [],
        "permissions": "2147483647",
    }


def interaction(
    kind: int, data: dict[str, Any], *, user: tuple[str, str] = ALICE, channel: str = GENERAL
) -> dict[str, Any]:
    number = next(_IDS)
    return {
        "id": str(900000000000000000 + number),
        "application_id": APPLICATION_ID,
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID,
        "channel_id": channel,
        "member": member(user),
        "token": f"interaction-token-{number}",
        "version": 1,
        "locale": "en-US",
        "app_permissions": "442368",
    }


def slash_data(sub: str, name: str = "incident", **options: Any) -> dict[str, Any]:
    """``/incident <sub>`` with options; user options (commander, owner, user) are resolved."""
    values = [
        {"name": key, "type": OPTION_TYPES.get(key, 3), "value": value}
        for key, value in options.items()
    ]
    people = [v["value"] for v in values if v["type"] == 6]
    users = {uid: {"id": uid, "username": f"user{uid[-2:]}"} for uid in people}
    data: dict[str, Any] = {
        "id": "800000000000000001",
        "name": name,
        "type": 1,
        "options": [{"type": 1, "name": sub, "options": values}],
    }
    if users:
        data["resolved"] = {"users": users}
    return data


@dataclass
class DiscordClient:
    """Posts signed interactions to an app and reads the database behind it."""

    http: httpx.AsyncClient
    ctx: Context
    app: DiscordApp
    sent: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(PATH, content=body, headers=headers or signed(body))

    async def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Sign and post ``payload``; the answer, checked against Discord's callback schema."""
        self.sent.append(payload)
        response = await self.post(json.dumps(payload).encode())
        assert response.status_code == 200, response.text
        answer = dict(response.json())
        assert check_interaction_response(answer) == [], answer
        self.answers.append(answer)
        return answer

    async def command(
        self,
        sub: str,
        *,
        who: tuple[str, str] = ALICE,
        channel: str = GENERAL,
        name: str = "incident",
        **options: Any,
    ) -> dict[str, Any]:
        """``/incident <sub>`` typed by ``who`` in ``channel``, with ``options``."""
        data = slash_data(sub, name, **options)
        return await self.send(interaction(2, data, user=who, channel=channel))

    async def click(
        self, custom_id: str, *, who: tuple[str, str] = ALICE, channel: str = GENERAL
    ) -> dict[str, Any]:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.send(interaction(3, data, user=who, channel=channel))

    async def submit(
        self, data: dict[str, Any], *, who: tuple[str, str] = ALICE, channel: str = GENERAL
    ) -> dict[str, Any]:
        return await self.send(interaction(5, data, user=who, channel=channel))

    async def counts(self) -> dict[str, int]:
        """Rows per table: the test's way to say "nothing changed"."""
        async with self.ctx.uow(read_only=True) as uow:
            found = {}
            for name, table in TABLES.items():
                query = sa.select(sa.func.count()).select_from(table)
                found[name] = int((await uow.connection.execute(query)).scalar_one())
        return found

    async def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        async with self.ctx.uow(read_only=True) as uow:
            result = await uow.connection.execute(sa.select(table))
            return [dict(row) for row in result.mappings()]

    async def link_channel(self, incident: int, channel: str) -> None:
        """What the outbox worker records once open_channel has made the incident's space."""
        async with self.ctx.uow() as uow:
            await uow.refs.set(incident, "discord", "channel", channel)
            await uow.commit()


def content(answer: dict[str, Any]) -> str:
    """Everything a person reads in an answer: content, embed titles, descriptions and fields."""
    data = answer.get("data") or {}
    parts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
    return "\n".join(parts)


def is_private(answer: dict[str, Any]) -> bool:
    return bool((answer.get("data") or {}).get("flags", 0) & 64)


# --- shared by the in-process Discord app tests -------------------------------------------------
def discord_context(db: Any, clock: Any) -> Context:
    """A services context with Discord switched on and a public URL for links."""
    return Context(
        db=db,
        policy=default_policy(),
        clock=clock,
        destinations=frozenset({"discord"}),
        public_url="https://tocsin.example.com",
    )


@contextlib.asynccontextmanager
async def open_client(ctx: Context) -> AsyncIterator[DiscordClient]:
    """A DiscordClient on the real app in-process; drains the app's slow work on exit."""
    asgi, app = build_app(ctx)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://tocsin") as http:
        yield DiscordClient(http, ctx, app)
    await app.drain()


async def declared(client: DiscordClient) -> dict[str, Any]:
    """INC-1 "Checkout is down", P1, declared by alice (its commander); channel INC_CHANNEL."""
    answer = await client.command("declare", title="Checkout is down", severity="P1")
    await client.link_channel(1, INC_CHANNEL)
    return answer


async def only_incident(client: DiscordClient) -> dict[str, Any]:
    rows = await client.rows(t.incidents)
    assert len(rows) == 1
    return rows[0]


def ok(answer: dict[str, Any]) -> bool:
    """Neither a problem (⚠️) nor a refusal (🚫)."""
    return not content(answer).startswith(("⚠️", "🚫"))


async def outbox_kinds(client: DiscordClient) -> list[str]:
    return [row["kind"] for row in await client.rows(t.outbox)]
