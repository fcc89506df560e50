"""The Slack sender: carries out the outbox rows addressed to ``slack``.

Kinds (planned by :mod:`tocsin.domain.routing`, plus two of our own):

``open_channel``           create ``inc-<n>-<slug>`` (``name_taken``: find it and reuse it), set the
                           topic, invite the commander and the declarer, post and pin a summary,
                           bookmark the dashboard link. Refs: ``channel``, ``summary_ts``.
``announce``               post the announcement (with buttons) in the policy's channel for the
                           severity, else TOCSIN_SLACK_ANNOUNCE_CHANNEL; none set: skipped.
                           Refs: ``announcement_ts``, ``announce_channel``.
``post``                   one timeline line in the incident channel (joins and role changes also
                           invite the person; a resolve queues ``archive_channel``).
``refresh_announcement``   re-set the channel topic if it changed and ``chat.update`` the
                           announcement.
``archive_channel``        (follow-up of a resolve, ``archive_after`` seconds later) archive the
                           channel unless the incident was reopened since.
``ephemeral``              (queued by the Slack adapter) a message only one person sees.
``page_dm``, ``remind``    a page by direct message, a reminder in the incident channel (in
                           :mod:`tocsin.platforms.slack.paging`).
``notice``                 a scheduled maintenance created, started or completed, posted in the
                           announce channel of P1 incidents (docs/status-page.md).
``propose_alert``          a proposed alert group in the announce channel (docs/alerts.md).

Nothing is done twice because of a retry: when an earlier attempt may have reached Slack, the
message tagged with this delivery's key (its first block's ``block_id``) is looked up in
``conversations.history`` before posting again; channel creation falls back to lookup by name;
pins, invites and bookmarks tolerate "already done".
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from tocsin.chat import notices, texts
from tocsin.chat.messages import Message
from tocsin.config import Settings
from tocsin.delivery.base import Delivery, PermanentError, RemoteRefs, Sent, Skip
from tocsin.domain.model import Severity
from tocsin.domain.policy import Policy
from tocsin.platforms.lifecycle import after_post, still_resolved
from tocsin.platforms.slack.blocks import STYLE, has_marker, message_blocks
from tocsin.platforms.slack.paging import SlackPaging
from tocsin.platforms.slack.webapi import SlackApi, SlackRefused

log = structlog.get_logger("tocsin.delivery.slack")

ARCHIVE_AFTER_SECONDS = 24 * 3600.0
HISTORY_WINDOW = 100  # messages searched for an earlier attempt's post
MAX_LIST_PAGES = 50
_INVITE_FINE = frozenset(
    {
        "already_in_channel", "cant_invite_self", "user_not_found", "cant_invite", "no_user",
        "user_is_restricted", "user_is_ultra_restricted", "user_is_bot", "ura_max_channels",
        "not_in_channel", "user_disabled", "invalid_users",
    }
)  # fmt: skip
_EPHEMERAL_GONE = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _slack_users(*people: Any) -> list[str]:
    ids = []
    for person in people:
        if isinstance(person, Mapping) and person.get("platform") == "slack":
            user_id = str(person.get("user_id") or "")
            if user_id and user_id not in ids:
                ids.append(user_id)
    return ids


class SlackSender:
    """Implements :class:`tocsin.delivery.base.Sender` for ``slack``."""

    destination = "slack"

    def __init__(
        self,
        api: SlackApi,
        *,
        policy: Policy,
        announce_channel: str | None = None,
        archive_after: float = ARCHIVE_AFTER_SECONDS,
    ) -> None:
        self.api = api
        self.policy = policy
        self.announce_channel = announce_channel
        self.archive_after = archive_after
        paging = SlackPaging(api, self._post_once)  # page_dm, remind: see slack_paging.py
        self._kinds: dict[str, Callable[[Delivery, RemoteRefs], Awaitable[Sent]]] = {
            "open_channel": self._open_channel,
            "announce": self._announce,
            "post": self._post,
            "refresh_announcement": self._refresh,
            "archive_channel": self._archive,
            "ephemeral": self._ephemeral,
            "notice": self._notice,
            "page_dm": paging.page_dm,
            "remind": paging.remind,
            "propose_alert": self._propose_alert,
        }

    async def send(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        handler = self._kinds.get(delivery.kind)
        if handler is None:
            raise PermanentError(f"the Slack sender does not know {delivery.kind!r} deliveries")
        return await handler(delivery, refs)

    async def aclose(self) -> None:
        await self.api.aclose()

    # --- open_channel ------------------------------------------------------------------------
    async def _open_channel(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        snap = payload["incident"]
        channel = refs.get("channel")
        if channel is None:
            channel = await self._create_channel(texts.channel_name(snap["number"], snap["title"]))
        topic = texts.channel_topic(snap, STYLE)
        await self._in_channel("conversations.setTopic", channel, topic=topic)
        await self._invite(channel, _slack_users(snap.get("commander"), payload.get("actor")))
        summary = texts.channel_summary(
            snap, STYLE, declared_by=payload.get("actor"), description=snap.get("description", "")
        )
        ts = await self._post_once(delivery, channel, summary)
        await self._tolerate("pins.add", {"already_pinned"}, channel=channel, timestamp=ts)
        await self._bookmark(delivery, channel, str(snap.get("url") or ""))
        return Sent(
            remote_ids={"channel": channel, "ts": ts},
            refs={"channel": channel, "summary_ts": ts, "topic": _digest(topic)},
        )

    async def _create_channel(self, name: str) -> str:
        candidates = [name] + [f"{name[:77]}-{n}" for n in range(2, 6)]
        for candidate in candidates:
            try:
                data = await self.api.call("conversations.create", name=candidate)
                return str(data["channel"]["id"])
            except SlackRefused as exc:
                if exc.code != "name_taken":
                    raise
            found = await self._find_channel(candidate)
            if found is not None and not found.get("is_archived"):
                if not found.get("is_member"):
                    await self.api.call("conversations.join", channel=found["id"])
                log.info("reusing existing Slack channel", channel=found["id"], name=candidate)
                return str(found["id"])
        raise PermanentError(f"Slack channel names {name} to {candidates[-1]} are all taken")

    async def _find_channel(self, name: str) -> dict[str, Any] | None:
        cursor = ""
        for _page in range(MAX_LIST_PAGES):
            data = await self.api.call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=200,
                cursor=cursor or None,
            )
            for channel in data.get("channels") or []:
                if channel.get("name") == name:
                    return dict(channel)
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return None
        return None

    async def _invite(self, channel: str, users: list[str]) -> None:
        for user in users:  # one by one: one unknown user must not keep the others out
            try:
                await self.api.call("conversations.invite", channel=channel, users=user)
            except SlackRefused as exc:
                if exc.code not in _INVITE_FINE:
                    raise
                log.info("Slack invite skipped", channel=channel, user=user, reason=exc.code)

    async def _bookmark(self, delivery: Delivery, channel: str, url: str) -> None:
        if not url:
            return
        try:
            if self._maybe_sent(delivery):
                data = await self.api.call("bookmarks.list", channel_id=channel)
                if any(b.get("link") == url for b in data.get("bookmarks") or []):
                    return
            await self.api.call(
                "bookmarks.add",
                channel_id=channel,
                title="Incident dashboard",
                type="link",
                link=url,
            )
        except SlackRefused as exc:  # a nicety: a workspace without bookmarks still gets the rest
            log.warning("Slack bookmark not added", channel=channel, reason=exc.code)

    # --- announce and refresh ----------------------------------------------------------------
    def _announce_channel(self, severity: str) -> str | None:
        rule = self.policy.rule(Severity(severity))
        return rule.announce_channels.get("slack") or self.announce_channel

    def _announcement(self, snap: Mapping[str, Any], refs: RemoteRefs, latest: str) -> Message:
        return texts.announcement(
            snap, STYLE, latest_update=latest, channel_id=refs.get("channel") or ""
        )

    async def _announce(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        snap = delivery.payload["incident"]
        channel = self._announce_channel(str(snap["severity"]))
        if not channel:
            raise Skip("no Slack announce channel set (TOCSIN_SLACK_ANNOUNCE_CHANNEL or policy)")
        message = self._announcement(snap, refs, refs.get("last_update") or "")
        ts = refs.get("announcement_ts")
        if ts and refs.get("announce_channel") == channel:
            await self._update(channel, ts, message, delivery.idempotency_key)
        else:
            ts = await self._post_once(delivery, channel, message)
        return Sent(
            remote_ids={"channel": channel, "ts": ts},
            refs={"announcement_ts": ts, "announce_channel": channel},
        )

    async def _notice(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        """A scheduled maintenance's announcement, in the channel where P1s are announced."""
        channel = self._announce_channel("P1")
        if not channel:
            raise Skip("no Slack announce channel set (TOCSIN_SLACK_ANNOUNCE_CHANNEL or policy)")
        message = notices.maintenance_notice(delivery.payload["maintenance"], STYLE)
        ts = await self._post_once(delivery, channel, message)
        return Sent(remote_ids={"channel": channel, "ts": ts})

    async def _refresh(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        snap = payload["incident"]
        out: dict[str, str] = {}
        channel = refs.get("channel")
        topic = texts.channel_topic(snap, STYLE)
        if channel and refs.get("topic") != _digest(topic):
            await self._in_channel("conversations.setTopic", channel, topic=topic)
            out["topic"] = _digest(topic)
        latest = str(payload.get("text") or "") if payload.get("event") == "update" else ""
        ts, where = refs.get("announcement_ts"), refs.get("announce_channel")
        if ts and where:
            message = self._announcement(snap, refs, latest or refs.get("last_update") or "")
            await self._update(where, ts, message, delivery.idempotency_key)
        elif not out:
            raise Skip("nothing to refresh: no announcement and the topic is current")
        return Sent(refs=out)

    async def _update(self, channel: str, ts: str, message: Message, key: str) -> None:
        blocks = message_blocks(message, key=key)
        await self.api.call("chat.update", channel=channel, ts=ts, text=message.text, blocks=blocks)

    async def _propose_alert(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        """A proposed alert group, posted once in the announce channel for its severity."""
        del refs  # an alert group has no incident channel
        payload = delivery.payload
        channel = self._announce_channel(str(payload["incident"]["severity"]))
        if not channel:
            raise Skip("no Slack announce channel set (TOCSIN_SLACK_ANNOUNCE_CHANNEL or policy)")
        message = notices.alert_group_message(payload, STYLE, buttons=True)
        ts = await self._post_once(delivery, channel, message)
        return Sent(remote_ids={"channel": channel, "ts": ts})

    # --- post, archive, ephemeral ------------------------------------------------------------
    async def _post(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        payload = delivery.payload
        channel = refs.get("channel")
        if not channel:
            raise PermanentError("the incident has no Slack channel (did open_channel fail?)")
        ts = await self._post_once(delivery, channel, texts.entry_message(payload, STYLE))
        event = payload.get("event")
        if event == "joined":
            await self._invite(channel, _slack_users(payload.get("actor")))
        elif event == "role":
            await self._invite(channel, _slack_users((payload.get("data") or {}).get("person")))
        out, follow_ups = after_post(
            delivery, close_kind="archive_channel", suffix="archive", close_after=self.archive_after
        )
        return Sent(remote_ids={"ts": ts}, refs=out, follow_ups=follow_ups)

    async def _archive(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        channel = refs.get("channel")
        if not channel:
            raise Skip("the incident has no Slack channel to archive")
        if not still_resolved(delivery, refs):
            raise Skip("the incident changed since it was resolved; the channel stays open")
        await self._tolerate("conversations.archive", {"already_archived"}, channel=channel)
        return Sent(refs={"archived": "yes"})

    async def _ephemeral(self, delivery: Delivery, refs: RemoteRefs) -> Sent:
        del refs
        payload = delivery.payload
        try:
            await self.api.call(
                "chat.postEphemeral",
                channel=payload["channel"],
                user=payload["user"],
                text=payload["text"],
            )
        except SlackRefused as exc:
            if exc.code in _EPHEMERAL_GONE:
                raise Skip(f"ephemeral message not shown: {exc.code}") from None
            raise
        return Sent()

    # --- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _maybe_sent(delivery: Delivery) -> bool:
        return delivery.attempts > 0 or delivery.maybe_sent

    async def _post_once(self, delivery: Delivery, channel: str, message: Message) -> str:
        """Post ``message`` unless an earlier attempt of this delivery already did; its ts."""
        if self._maybe_sent(delivery):
            found = await self._find_posted(channel, delivery.idempotency_key)
            if found:
                log.info("Slack message already posted", key=delivery.idempotency_key, ts=found)
                return found
        blocks = message_blocks(message, key=delivery.idempotency_key)
        data = await self._in_channel("chat.postMessage", channel, text=message.text, blocks=blocks)
        return str(data["ts"])

    async def _find_posted(self, channel: str, key: str) -> str | None:
        try:
            data = await self.api.call(
                "conversations.history", channel=channel, limit=HISTORY_WINDOW
            )
        except SlackRefused as exc:
            log.warning("cannot look for an earlier post", channel=channel, reason=exc.code)
            return None
        for message in data.get("messages") or []:
            if has_marker(message, key):
                return str(message["ts"])
        return None

    async def _in_channel(self, method: str, channel: str, **args: Any) -> Any:
        """Call ``method`` on ``channel``; if tocsin is not in it (or it is archived), fix that
        once and try again."""
        try:
            return await self.api.call(method, channel=channel, **args)
        except SlackRefused as exc:
            if exc.code == "not_in_channel":
                await self.api.call("conversations.join", channel=channel)
            elif exc.code == "is_archived":
                await self.api.call("conversations.unarchive", channel=channel)
            else:
                raise
        return await self.api.call(method, channel=channel, **args)

    async def _tolerate(self, method: str, fine: set[str], **args: Any) -> None:
        try:
            await self.api.call(method, **args)
        except SlackRefused as exc:
            if exc.code not in fine:
                raise


def build_slack_sender(settings: Settings, policy: Policy) -> SlackSender | None:
    """The sender for ``settings``, or None without a bot token (found by the delivery
    registry). The channel is archived TOCSIN_SLACK_ARCHIVE_AFTER_HOURS after a resolve."""
    token = settings.slack_bot_token
    if token is None:
        return None
    return SlackSender(
        SlackApi(token.get_secret_value(), settings.slack_api_url),
        policy=policy,
        announce_channel=settings.slack_announce_channel,
        archive_after=settings.slack_archive_after_hours * 3600,
    )
