"""The Discord sender: carries out the outbox rows addressed to ``discord``.

Kinds (planned by :mod:`tocsin.domain.routing`, plus three of our own):

``open_channel``           the incident's space: a text channel ``inc-<n>-<slug>`` in the guild
                           (under TOCSIN_DISCORD_CATEGORY_ID when set), or, with
                           TOCSIN_DISCORD_INCIDENT_SPACE=thread, a public thread (type 11) in the
                           announce channel; then the summary, posted and pinned. Refs:
                           ``channel``, ``summary_id``, ``space``.
``announce``               the announcement (with buttons) in the policy's channel for the
                           severity, else TOCSIN_DISCORD_ANNOUNCE_CHANNEL; none set: skipped.
                           Refs: ``announcement_id``, ``announce_channel``.
``post``                   one timeline line in the incident's space (in a thread, joins and role
                           changes add the person; a resolve queues ``close_space``; a reopen
                           opens a closed space again).
``refresh_announcement``   edit the announcement in place.
``close_space``            (follow-up of a resolve, ``archive_after`` seconds later) archive and
                           lock the thread, or lock the channel (only tocsin may still post),
                           unless the incident was reopened since.
``interaction_reply``      (queued by the Discord adapter) the late answer to a deferred
                           interaction: an edit of ``@original`` through the interaction webhook.
``page_dm``, ``remind``    a page by direct message, a reminder in the incident's space (in
                           :mod:`tocsin.platforms.discord.paging`).
``notice``                 a scheduled maintenance created, started or completed, posted in the
                           announce channel of P1 incidents (docs/status-page.md).

Nothing is done twice because of a retry: messages carry a nonce derived from the delivery's
idempotency key with ``enforce_nonce``, so Discord returns the first message instead of making a
second; when an earlier attempt may have created the channel or thread, it is looked up by name
before creating another; pins, members and permission overwrites are idempotent PUTs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from tocsin.chat import notices, texts
from tocsin.chat.messages import Message
from tocsin.config import Settings
from tocsin.delivery.base import Delivery, PermanentError, RemoteRefs, Sent, Skip
from tocsin.domain.model import Severity
from tocsin.domain.policy import Policy
from tocsin.platforms.discord.paging import DiscordPaging
from tocsin.platforms.discord.ratelimit import DiscordRefused
from tocsin.platforms.discord.render import STYLE, message_body
from tocsin.platforms.discord.rest import DiscordRest
from tocsin.platforms.lifecycle import after_post, still_resolved

log = structlog.get_logger("tocsin.delivery.discord")

ARCHIVE_AFTER_SECONDS = 24 * 3600.0
SPACES = ("channel", "thread")
TEXT_CHANNEL, PUBLIC_THREAD = 0, 11
THREAD_ARCHIVE_MINUTES = 10080
ROLE_OVERWRITE, MEMBER_OVERWRITE = 0, 1
# Send messages, send in threads, create public and private threads, add reactions.
LOCKED = (1 << 11) | (1 << 38) | (1 << 35) | (1 << 36) | (1 << 6)

Handler = Callable[[Delivery, RemoteRefs], Awaitable[Sent]]


def nonce(key: str) -> str:
    """A message nonce (at most 25 characters) that is the same for every attempt of a row."""
    return hashlib.sha256(key.encode()).hexdigest()[:25]


def _discord_users(*people: Any) -> list[str]:
    ids: list[str] = []
    for person in people:
        if isinstance(person, Mapping) and person.get("platform") == "discord":
            user_id = str(person.get("user_id") or "")
            if user_id.isdigit() and user_id not in ids:
                ids.append(user_id)
    return ids


class DiscordSender:
    """Implements :class:`tocsin.delivery.base.Sender` for ``discord``."""

    destination = "discord"

    def __init__(
        self,
        rest: DiscordRest,
        *,
        policy: Policy,
        guild_id: str | None = None,
        announce_channel: str | None = None,
        space: str = "channel",
        category_id: str | None = None,
        archive_after: float = ARCHIVE_AFTER_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if space not in SPACES:
            raise ValueError(f"the incident space must be one of {SPACES}, not {space!r}")
        self.rest = rest
        self.policy = policy
        self.guild_id = guild_id
        self.announce_channel = announce_channel
        self.space = space
        self.category_id = category_id
        self.archive_after = archive_after
        self.clock = clock
        self._bot_id: str | None = None
        paging = DiscordPaging(rest, self._send_message)  # page_dm, remind: see discord_paging.py
        self._kinds: dict[str, Handler] = {
            "open_channel": self._open,
            "announce": self._announce,
            "propose_alert": self._propose_alert,
            "post": self._post_entry,
            "refresh_announcement": self._refresh,
            "close_space": self._close,
            "interaction_reply": self._interaction_reply,
            "notice": self._notice,
            "page_dm": paging.page_dm,
            "remind": paging.remind,
        }

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        handler = self._kinds.get(delivery.kind)
        if handler is None:
            raise PermanentError(f"the Discord sender does not know {delivery.kind!r} deliveries")
        return await handler(delivery, refs)

    async def aclose(self) -> None:
        await self.rest.aclose()

    # --- the incident's space ------------------------------------------------------------------
    async def _open(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        snap = payload["incident"]
        space = refs.get("space") or self.space
        name = texts.channel_name(int(snap["number"]), str(snap["title"]), limit=100)
        channel = refs.get("channel")
        if channel is None and space == "thread":
            channel = await self._create_thread(delivery, snap, name)
        elif channel is None:
            channel = await self._create_channel(delivery, snap, name)
        summary = texts.channel_summary(
            snap, STYLE, declared_by=payload.get("actor"), description=snap.get("description", "")
        )
        message_id = await self._send_message(channel, summary, delivery.idempotency_key)
        await self._tolerate("PUT", f"/channels/{channel}/messages/pins/{message_id}")
        if space == "thread":
            await self._add_members(channel, snap.get("commander"), payload.get("actor"))
        return Sent(
            remote_ids={"channel": channel, "message": message_id},
            refs={"channel": channel, "summary_id": message_id, "space": space},
        )

    async def _create_channel(self, delivery: Delivery, snap: Mapping[str, Any], name: str) -> str:
        guild = await self._guild()
        if self._maybe_sent(delivery):
            channels = await self.rest.request("GET", f"/guilds/{guild}/channels") or []
            for channel in channels:
                if channel.get("name") == name and channel.get("type") == TEXT_CHANNEL:
                    log.info("reusing existing Discord channel", channel=channel["id"], name=name)
                    return str(channel["id"])
        body: dict[str, Any] = {
            "name": name,
            "type": TEXT_CHANNEL,
            "topic": texts.channel_topic(snap, STYLE)[:1024],
        }
        if self.category_id:
            body["parent_id"] = self.category_id
        created = await self.rest.request("POST", f"/guilds/{guild}/channels", json=body)
        return str(created["id"])

    async def _create_thread(self, delivery: Delivery, snap: Mapping[str, Any], name: str) -> str:
        parent = self._announce_channel(str(snap["severity"]))
        if not parent:
            raise PermanentError(
                "incident threads need an announce channel: set TOCSIN_DISCORD_ANNOUNCE_CHANNEL "
                "(or the policy's discord_channel for this severity)"
            )
        if self._maybe_sent(delivery):
            guild = await self._guild(parent)
            active = await self.rest.request("GET", f"/guilds/{guild}/threads/active") or {}
            for thread in active.get("threads") or []:
                if thread.get("name") == name and str(thread.get("parent_id")) == parent:
                    log.info("reusing existing Discord thread", thread=thread["id"], name=name)
                    return str(thread["id"])
        body = {
            "name": name,
            "type": PUBLIC_THREAD,
            "auto_archive_duration": THREAD_ARCHIVE_MINUTES,
        }
        created = await self.rest.request("POST", f"/channels/{parent}/threads", json=body)
        return str(created["id"])

    async def _guild(self, channel: str | None = None) -> str:
        """TOCSIN_DISCORD_GUILD_ID, or the guild of the announce channel (looked up once)."""
        if self.guild_id:
            return self.guild_id
        channel = channel or self.announce_channel
        if not channel:
            raise PermanentError(
                "set TOCSIN_DISCORD_GUILD_ID (or TOCSIN_DISCORD_ANNOUNCE_CHANNEL) so tocsin "
                "knows which Discord server to open incident channels in"
            )
        found = await self.rest.request("GET", f"/channels/{channel}")
        self.guild_id = str(found["guild_id"])
        return self.guild_id

    async def _add_members(self, thread: str, *people: Any) -> None:
        for user in _discord_users(*people):
            await self._tolerate("PUT", f"/channels/{thread}/thread-members/{user}")

    # --- announce and refresh ------------------------------------------------------------------
    def _announce_channel(self, severity: str) -> str | None:
        rule = self.policy.rule(Severity(severity))
        return rule.announce_channels.get("discord") or self.announce_channel

    def _announcement(self, snap: Mapping[str, Any], refs: RemoteRefs, latest: str) -> Message:
        return texts.announcement(
            snap, STYLE, latest_update=latest, channel_id=refs.get("channel") or ""
        )

    async def _announce(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        snap = delivery.payload["incident"]
        channel = self._announce_channel(str(snap["severity"]))
        if not channel:
            raise Skip("no Discord announce channel (TOCSIN_DISCORD_ANNOUNCE_CHANNEL or policy)")
        message = self._announcement(snap, refs, refs.get("last_update") or "")
        message_id = refs.get("announcement_id")
        if message_id and refs.get("announce_channel") == channel:
            await self._edit(channel, message_id, message)
        else:
            message_id = await self._send_message(channel, message, delivery.idempotency_key)
        return Sent(
            remote_ids={"channel": channel, "message": message_id},
            refs={"announcement_id": message_id, "announce_channel": channel},
        )

    async def _notice(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        """A scheduled maintenance's announcement, in the channel where P1s are announced."""
        channel = self._announce_channel("P1")
        if not channel:
            raise Skip("no Discord announce channel (TOCSIN_DISCORD_ANNOUNCE_CHANNEL or policy)")
        message = notices.maintenance_notice(delivery.payload["maintenance"], STYLE)
        message_id = await self._send_message(channel, message, delivery.idempotency_key)
        return Sent(remote_ids={"channel": channel, "message": message_id})

    async def _propose_alert(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        """A proposed alert group, posted in the announce channel for its severity."""
        del refs  # an alert group has no incident channel
        payload = delivery.payload
        channel = self._announce_channel(str(payload["incident"]["severity"]))
        if not channel:
            raise Skip("no Discord announce channel (TOCSIN_DISCORD_ANNOUNCE_CHANNEL or policy)")
        message = notices.alert_group_message(payload, STYLE, buttons=True)
        message_id = await self._send_message(channel, message, delivery.idempotency_key)
        return Sent(remote_ids={"channel": channel, "message": message_id})

    async def _refresh(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        message_id, channel = refs.get("announcement_id"), refs.get("announce_channel")
        if not message_id or not channel:
            raise Skip("no Discord announcement to refresh")
        latest = str(payload.get("text") or "") if payload.get("event") == "update" else ""
        message = self._announcement(
            payload["incident"], refs, latest or refs.get("last_update") or ""
        )
        await self._edit(channel, message_id, message)
        return Sent()

    # --- timeline lines, closing and reopening -------------------------------------------------
    async def _post_entry(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        channel = refs.get("channel")
        if not channel:
            raise PermanentError("the incident has no Discord channel (did open_channel fail?)")
        event, data = payload.get("event"), payload.get("data") or {}
        out: dict[str, str] = {}
        if event == "reopened" and refs.get("closed") == "yes":
            await self._reopen_space(channel, refs.get("space") or self.space)
            out["closed"] = "no"
        text = texts.entry_message(payload, STYLE)
        message_id = await self._send_message(channel, text, delivery.idempotency_key)
        if (refs.get("space") or self.space) == "thread" and event in ("joined", "role"):
            await self._add_members(channel, payload.get("actor") if event == "joined" else None)
            await self._add_members(channel, data.get("person"))
        refs_after, follow_ups = after_post(
            delivery, close_kind="close_space", suffix="close", close_after=self.archive_after
        )
        return Sent(
            remote_ids={"message": message_id}, refs={**out, **refs_after}, follow_ups=follow_ups
        )

    async def _close(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        channel = refs.get("channel")
        if not channel:
            raise Skip("the incident has no Discord channel to close")
        if not still_resolved(delivery, refs):
            raise Skip("the incident changed since it was resolved; its space stays open")
        if (refs.get("space") or self.space) == "thread":
            body = {"archived": True, "locked": True}
            await self.rest.request("PATCH", f"/channels/{channel}", json=body)
        else:
            guild, bot = await self._guild(), await self._bot()
            allow = {"type": MEMBER_OVERWRITE, "allow": LOCKED, "deny": 0}
            await self.rest.request("PUT", f"/channels/{channel}/permissions/{bot}", json=allow)
            deny = {"type": ROLE_OVERWRITE, "allow": 0, "deny": LOCKED}  # @everyone = guild id
            await self.rest.request("PUT", f"/channels/{channel}/permissions/{guild}", json=deny)
        return Sent(refs={"closed": "yes"})

    async def _reopen_space(self, channel: str, space: str) -> None:
        if space == "thread":
            body = {"archived": False, "locked": False}
            await self.rest.request("PATCH", f"/channels/{channel}", json=body)
        else:
            guild = await self._guild()
            await self._tolerate("DELETE", f"/channels/{channel}/permissions/{guild}")

    async def _bot(self) -> str:
        if self._bot_id is None:
            me = await self.rest.request("GET", "/users/@me")
            self._bot_id = str(me["id"])
        return self._bot_id

    # --- interaction answers -------------------------------------------------------------------
    async def _interaction_reply(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs
        payload = delivery.payload
        expires = datetime.fromisoformat(str(payload["expires_at"]))
        if self.clock() >= expires:
            raise Skip("the interaction's token has expired (15 minutes)")
        path = f"/webhooks/{payload['application_id']}/{payload['token']}/messages/@original"
        try:
            await self.rest.request("PATCH", path, json=payload["body"], auth=False)
        except DiscordRefused as exc:
            if exc.status in (401, 404):
                raise Skip(f"the interaction is gone: {exc}") from None
            raise
        return Sent()

    # --- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _maybe_sent(delivery: Delivery) -> bool:
        return delivery.attempts > 0 or delivery.maybe_sent

    async def _send_message(self, channel: str, message: Message, key: str) -> str:
        body = {**message_body(message), "nonce": nonce(key), "enforce_nonce": True}
        created = await self.rest.request("POST", f"/channels/{channel}/messages", json=body)
        return str(created["id"])

    async def _edit(self, channel: str, message_id: str, message: Message) -> None:
        path = f"/channels/{channel}/messages/{message_id}"
        await self.rest.request("PATCH", path, json=message_body(message))

    async def _tolerate(self, method: str, path: str) -> None:
        """A nicety (a pin, a thread member): log a refusal instead of failing the delivery."""
        try:
            await self.rest.request(method, path)
        except DiscordRefused as exc:
            log.warning("Discord refused a nicety", error=str(exc))


def build_discord_sender(settings: Settings, policy: Policy) -> DiscordSender | None:
    """The sender for ``settings``, or None without a bot token (found by the registry)."""
    token = settings.discord_bot_token
    if token is None:
        return None
    return DiscordSender(
        DiscordRest(token.get_secret_value(), settings.discord_api_url),
        policy=policy,
        guild_id=settings.discord_guild_id,
        announce_channel=settings.discord_announce_channel,
        space=settings.discord_incident_space,
        category_id=settings.discord_category_id,
        archive_after=settings.discord_archive_after_hours * 3600,
    )
