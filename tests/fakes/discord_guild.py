"""The guild behind the fake Discord REST API (:mod:`fakes.discord_api`): its state, kept as
Discord keeps it, and one handler per route tocsin uses. Handlers take the route's parameters and
the (already schema-checked) JSON body and return a :class:`~fakes.http_fake.Reply`; the server
calls them under its lock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from fakes.http_fake import Reply

APPLICATION_ID = "700000000000000100"
BOT_USER_ID = "700000000000000101"
GUILD_ID = "700000000000000200"
ANNOUNCE = "700000000000000300"

Handler = Callable[[dict[str, str], Any], Reply]


def error(status: int, code: int, message: str) -> Reply:
    return Reply(status, json={"message": message, "code": code})


def _without_false_required(value: Any) -> Any:
    """Discord leaves ``required: false`` out of the commands it returns."""
    if isinstance(value, dict):
        return {
            k: _without_false_required(v)
            for k, v in value.items()
            if not (k == "required" and v is False)
        }
    if isinstance(value, list):
        return [_without_false_required(v) for v in value]
    return value


class Guild:
    def __init__(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.thread_members: dict[str, list[str]] = {}
        self.overwrites: dict[str, dict[str, dict[str, Any]]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.originals: dict[str, dict[str, Any]] = {}
        self.expired_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.add_channel("incidents", channel_id=ANNOUNCE)
        self.handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/users/@me"): lambda p, b: Reply(json=self._bot()),
            ("GET", "/channels/{channel_id}"): self._get_channel,
            ("PATCH", "/channels/{channel_id}"): self._patch_channel,
            ("GET", "/guilds/{guild_id}/channels"): self._list_channels,
            ("POST", "/guilds/{guild_id}/channels"): self._create_channel,
            ("GET", "/guilds/{guild_id}/threads/active"): self._active_threads,
            ("POST", "/channels/{channel_id}/threads"): self._create_thread,
            ("PUT", "/channels/{channel_id}/thread-members/{user_id}"): self._add_member,
            ("POST", "/channels/{channel_id}/messages"): self._create_message,
            ("PATCH", "/channels/{channel_id}/messages/{message_id}"): self._edit_message,
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}"): self._pin,
            ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}"): self._set_overwrite,
            ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}"): self._drop_overwrite,
            ("GET", "/applications/{application_id}/commands"): self._get_commands,
            ("PUT", "/applications/{application_id}/commands"): self._put_commands,
            (
                "GET",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self._get_commands,
            (
                "PUT",
                "/applications/{application_id}/guilds/{guild_id}/commands",
            ): self._put_commands,
            (
                "PATCH",
                "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
            ): self._edit_original,
        }

    # --- seeding and reading --------------------------------------------------------------
    def _next_id(self) -> str:
        return str(800000000000000000 + next(self._ids))

    def add_channel(self, name: str, *, channel_id: str = "", kind: int = 0) -> str:
        with self._lock:
            channel_id = channel_id or self._next_id()
            self.channels[channel_id] = {
                "id": channel_id,
                "type": kind,
                "guild_id": GUILD_ID,
                "name": name,
                "parent_id": None,
                "topic": None,
            }
            self.messages[channel_id] = []
            return channel_id

    def channel_named(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return next((c for c in self.channels.values() if c["name"] == name), None)

    def messages_in(self, channel_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages.get(channel_id, []))

    # --- the routes -----------------------------------------------------------------------
    @staticmethod
    def _bot() -> dict[str, Any]:
        return {"id": BOT_USER_ID, "username": "tocsin", "discriminator": "0", "bot": True}

    def _channel(self, names: dict[str, str]) -> dict[str, Any] | None:
        return self.channels.get(names.get("channel_id", ""))

    def _get_channel(self, names: dict[str, str], body: Any) -> Reply:
        channel = self._channel(names)
        return Reply(json=channel) if channel else error(404, 10003, "Unknown Channel")

    def _patch_channel(self, names: dict[str, str], body: Any) -> Reply:
        channel = self._channel(names)
        if channel is None:
            return error(404, 10003, "Unknown Channel")
        meta = channel.get("thread_metadata")
        for field in ("archived", "locked"):
            if field in body and meta is not None:
                meta[field] = body[field]
        channel.update({k: v for k, v in body.items() if k in ("name", "topic")})
        return Reply(json=channel)

    def _list_channels(self, names: dict[str, str], body: Any) -> Reply:
        if names["guild_id"] != GUILD_ID:
            return error(404, 10004, "Unknown Guild")
        return Reply(json=[c for c in self.channels.values() if c["type"] in (0, 4)])

    def _create_channel(self, names: dict[str, str], body: Any) -> Reply:
        if names["guild_id"] != GUILD_ID:
            return error(404, 10004, "Unknown Guild")
        channel_id = self.add_channel(body["name"], kind=body.get("type") or 0)
        self.channels[channel_id].update(topic=body.get("topic"), parent_id=body.get("parent_id"))
        return Reply(201, json=self.channels[channel_id])

    def _active_threads(self, names: dict[str, str], body: Any) -> Reply:
        threads = [
            c
            for c in self.channels.values()
            if c["type"] in (11, 12) and not c["thread_metadata"]["archived"]
        ]
        return Reply(json={"threads": threads, "members": []})

    def _create_thread(self, names: dict[str, str], body: Any) -> Reply:
        parent = self._channel(names)
        if parent is None:
            return error(404, 10003, "Unknown Channel")
        kind = body.get("type") or 12  # without a message, a thread is private unless told
        thread_id = self.add_channel(body["name"], kind=kind)
        self.channels[thread_id].update(
            parent_id=parent["id"],
            thread_metadata={
                "archived": False,
                "locked": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 4320,
            },
        )
        self.thread_members[thread_id] = []
        return Reply(201, json=self.channels[thread_id])

    def _add_member(self, names: dict[str, str], body: Any) -> Reply:
        members = self.thread_members.get(names["channel_id"])
        if members is None:
            return error(400, 50024, "Cannot execute action on this channel type")
        if names["user_id"] not in members:
            members.append(names["user_id"])
        return Reply(204)

    def _create_message(self, names: dict[str, str], body: Any) -> Reply:
        channel_id = names["channel_id"]
        if channel_id not in self.channels:
            return error(404, 10003, "Unknown Channel")
        found = self.messages[channel_id]
        if body.get("enforce_nonce") and body.get("nonce"):
            for message in found:
                if message.get("nonce") == body["nonce"]:
                    return Reply(json=message)
        message = {
            "id": self._next_id(),
            "channel_id": channel_id,
            "type": 0,
            "author": self._bot(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "nonce": body.get("nonce"),
            "pinned": False,
        }
        found.append(message)
        return Reply(json=message)

    def _find_message(self, names: dict[str, str]) -> dict[str, Any] | None:
        found = self.messages.get(names["channel_id"], [])
        return next((m for m in found if m["id"] == names["message_id"]), None)

    def _edit_message(self, names: dict[str, str], body: Any) -> Reply:
        message = self._find_message(names)
        if message is None:
            return error(404, 10008, "Unknown Message")
        message.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
        return Reply(json=message)

    def _pin(self, names: dict[str, str], body: Any) -> Reply:
        message = self._find_message(names)
        if message is None:
            return error(404, 10008, "Unknown Message")
        message["pinned"] = True
        pins = self.pins.setdefault(names["channel_id"], [])
        if message["id"] not in pins:
            pins.append(message["id"])
        return Reply(204)

    def _set_overwrite(self, names: dict[str, str], body: Any) -> Reply:
        if names["channel_id"] not in self.channels:
            return error(404, 10003, "Unknown Channel")
        self.overwrites.setdefault(names["channel_id"], {})[names["overwrite_id"]] = body
        return Reply(204)

    def _drop_overwrite(self, names: dict[str, str], body: Any) -> Reply:
        self.overwrites.get(names["channel_id"], {}).pop(names["overwrite_id"], None)
        return Reply(204)

    def _scope(self, names: dict[str, str]) -> str | None:
        if names["application_id"] != APPLICATION_ID:
            return None
        return names.get("guild_id", "global")

    def _get_commands(self, names: dict[str, str], body: Any) -> Reply:
        scope = self._scope(names)
        if scope is None:
            return error(403, 50001, "Missing Access")
        return Reply(json=_without_false_required(self.commands.get(scope, [])))

    def _put_commands(self, names: dict[str, str], body: Any) -> Reply:
        scope = self._scope(names)
        if scope is None:
            return error(403, 50001, "Missing Access")
        before = {(c["type"], c["name"]): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for command in body:
            kind = command.get("type", 1)
            entry = {**command, "type": kind, "application_id": APPLICATION_ID, "version": "1"}
            entry["id"] = before.get((kind, command["name"])) or self._next_id()
            stored.append(entry)
        self.commands[scope] = stored
        return Reply(json=_without_false_required(stored))

    def _edit_original(self, names: dict[str, str], body: Any) -> Reply:
        token = names["webhook_token"]
        if names["webhook_id"] != APPLICATION_ID or token in self.expired_tokens:
            return error(401, 50027, "Invalid Webhook Token")
        self.originals[token] = body
        return Reply(json={"id": self._next_id(), "type": 20, **body})


def params(template: str, path: str) -> dict[str, str]:
    """The values of ``template``'s parameters in ``path``."""
    names = {}
    for part, value in zip(
        template.strip("/").split("/"), path.strip("/").split("/"), strict=False
    ):
        if part.startswith("{"):
            names[part.strip("{}")] = value
    return names
