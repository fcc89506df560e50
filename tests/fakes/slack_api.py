"""A fake Slack Web API on 127.0.0.1, for the real slack_sdk ``AsyncWebClient``.

Built on :class:`tests.fakes.http_fake.FakeServer`. Every call is checked against Slack's own
OpenAPI description (``tests/fixtures/slack/spec/slack_web_openapi_v2.json``): an unknown
method answers ``unknown_method`` and an unknown argument name answers ``invalid_arguments``;
both are also recorded in :attr:`FakeSlack.violations` so a test can assert there were none.
The 2021 spec predates a few methods tocsin uses; :data:`NEWER_METHODS` lists them with their
documented arguments. Success bodies are shaped like the spec's examples
(``tests/fixtures/slack/web_api/method_examples_from_openapi.json``).

State is kept like Slack keeps it (channels, members, topics, messages, pins, bookmarks, views),
and failures are scriptable::

    slack.fail("conversations.create", "name_taken")      # next call answers ok:false
    slack.rate_limit("chat.postMessage", retry_after=7)   # next call: HTTP 429 + Retry-After
    slack.server_error("chat.update", status=503)
    slack.slow("chat.postMessage", seconds=2)             # answers late (client timeouts)
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fakes import FIXTURES
from fakes.http_fake import FakeServer, Reply, Request

SLACK_FIXTURES = FIXTURES / "slack"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
BOT_USER = "UTOCSINBOT"
NEWER_METHODS: dict[str, set[str]] = {
    # https://docs.slack.dev/reference/methods/bookmarks.add (2021 spec has no bookmarks.*)
    "bookmarks.add": {"channel_id", "title", "type", "link", "emoji", "entity_id", "parent_id"},
    "bookmarks.list": {"channel_id"},
    # https://docs.slack.dev/reference/methods/apps.connections.open (Socket Mode)
    "apps.connections.open": set(),
}
_NAME_RE = re.compile(r"^[a-z0-9_-]{1,80}$")

Impl = Callable[[dict[str, Any]], dict[str, Any]]


def spec_methods() -> dict[str, set[str]]:
    """Method name -> argument names, from the OpenAPI spec plus :data:`NEWER_METHODS`."""
    spec = json.loads((SLACK_FIXTURES / "spec" / "slack_web_openapi_v2.json").read_text())
    methods: dict[str, set[str]] = {}
    for path, operations in spec["paths"].items():
        names = methods.setdefault(path.lstrip("/"), set())
        for operation in operations.values():
            names.update(p["name"] for p in operation.get("parameters", []))
    for method, names in NEWER_METHODS.items():
        methods[method] = names | {"token"}
    return methods


def examples() -> dict[str, Any]:
    return json.loads(
        (SLACK_FIXTURES / "web_api" / "method_examples_from_openapi.json").read_text()
    )


class SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FakeSlack:
    """The fake server and the workspace it pretends to be."""

    def __init__(self) -> None:
        self.server = FakeServer(default=self._handle)
        self.methods = spec_methods()
        self.examples = examples()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.violations: list[str] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.bookmarks: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.public_write = True  # chat:write.public: post to public channels without joining
        self.socket_url = ""
        self._scripts: dict[str, list[Reply]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    # --- scripting ------------------------------------------------------------------------
    def _script(self, method: str, reply: Reply, times: int) -> None:
        with self._lock:
            self._scripts.setdefault(method, []).extend([reply] * times)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        self._script(method, Reply(200, json={"ok": False, "error": error}), times)

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        body = {"ok": False, "error": "ratelimited"}
        self._script(
            method, Reply(429, json=body, headers={"Retry-After": str(retry_after)}), times
        )

    def server_error(self, method: str, status: int = 503, times: int = 1) -> None:
        self._script(method, Reply(status, body="upstream unavailable"), times)

    def slow(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer late but otherwise normally (the work is done: a timeout may have sent it)."""
        self._script(method, Reply(delay=seconds), times)

    # --- seeding and reading --------------------------------------------------------------
    def add_channel(self, name: str, *, member: bool = True, archived: bool = False) -> str:
        with self._lock:
            return self._new_channel(name, member=member, archived=archived)["id"]

    def add_message(self, channel: str, text: str, user: str = "UALICE") -> str:
        with self._lock:
            return self._append(channel, {"type": "message", "text": text, "user": user})["ts"]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [args for name, args in self.calls if name == method]

    def channel_named(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            return next((c for c in self.channels.values() if c["name"] == name), None)

    # --- serving --------------------------------------------------------------------------
    def _handle(self, request: Request) -> Reply:
        method = request.path.removeprefix("/api/")
        args = _arguments(request)
        with self._lock:
            self.calls.append((method, args))
            if method not in self.methods:
                self.violations.append(f"unknown method {method}")
                return Reply(404, json={"ok": False, "error": "unknown_method"})
            unknown = sorted(set(args) - self.methods[method])
            if unknown:
                self.violations.append(f"{method}: unknown arguments {unknown}")
                return Reply(200, json={"ok": False, "error": "invalid_arguments"})
            if not self._authorised(method, request, args):
                return Reply(200, json={"ok": False, "error": "invalid_auth"})
            script = self._scripts.get(method)
            scripted = script.pop(0) if script else None
            if scripted is not None and scripted.delay == 0:
                return scripted
            body = self._perform(method, args)
        if scripted is not None:  # a slow answer: done, but answered late
            return Reply(200, json=body, delay=scripted.delay)
        return Reply(200, json=body)

    def _authorised(self, method: str, request: Request, args: dict[str, Any]) -> bool:
        header = request.header("authorization") or ""
        token = header.removeprefix("Bearer ").strip() or str(args.get("token") or "")
        return token == (APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN)

    def _perform(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        impl: Impl | None = getattr(self, "_m_" + method.replace(".", "_"), None)
        try:
            if impl is not None:
                return {"ok": True, **impl(args)}
        except SlackError as exc:
            return {"ok": False, "error": exc.code}
        example = self.examples.get(method, {}).get("example_ok")
        return dict(example) if example else {"ok": True}

    # --- state helpers --------------------------------------------------------------------
    def _new_channel(self, name: str, *, member: bool = True, archived: bool = False) -> Any:
        template = self.examples["conversations.create"]["example_ok"]["channel"]
        channel = {
            **json.loads(json.dumps(template)),
            "id": f"C{next(self._ids):08d}",
            "name": name,
            "name_normalized": name,
            "is_member": member,
            "is_archived": archived,
            "creator": BOT_USER,
            "members": [BOT_USER] if member else [],
        }
        self.channels[channel["id"]] = channel
        self.messages[channel["id"]] = []
        return channel

    def _channel(self, channel_id: Any, *, member: bool = False, open_: bool = False) -> Any:
        channel = self.channels.get(str(channel_id))
        if channel is None:
            raise SlackError("channel_not_found")
        if open_ and channel["is_archived"]:
            raise SlackError("is_archived")
        if member and not channel["is_member"]:
            raise SlackError("not_in_channel")
        return channel

    def _append(self, channel_id: str, message: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        message = {**message, "ts": f"{1700000000 + n}.{n:06d}"}
        self.messages.setdefault(channel_id, []).append(message)
        return message

    def _message(self, channel_id: str, ts: Any) -> dict[str, Any]:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == str(ts):
                return message
        raise SlackError("message_not_found")

    # --- methods --------------------------------------------------------------------------
    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"user_id": BOT_USER, "bot_id": "BTOCSIN", "team_id": "T111", "user": "tocsin"}

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.socket_url}

    def _m_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _NAME_RE.match(name):
            raise SlackError("invalid_name_specials")
        if self.channel_named(name) is not None:
            raise SlackError("name_taken")
        return {"channel": self._new_channel(name)}

    def _m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        every = [c for c in self.channels.values() if not (
            _true(args.get("exclude_archived")) and c["is_archived"]
        )]  # fmt: skip
        page = every[start : start + limit]
        more = start + limit < len(every)
        return {
            "channels": page,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), open_=True)
        channel["is_member"] = True
        channel["members"].append(BOT_USER)
        return {"channel": channel}

    def _m_conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), member=True, open_=True)
        topic = str(args.get("topic") or "")
        if len(topic) > 250:
            raise SlackError("too_long")
        channel["topic"] = {"value": topic, "creator": BOT_USER, "last_set": 0}
        return {}

    def _m_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), member=True, open_=True)
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("no_user")
        new = [u for u in users if u not in channel["members"]]
        if not new:
            raise SlackError("already_in_channel")
        channel["members"].extend(new)
        return {"channel": channel}

    def _m_conversations_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), member=True)
        if channel["is_archived"]:
            raise SlackError("already_archived")
        channel["is_archived"] = True
        return {}

    def _m_conversations_unarchive(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        if not channel["is_archived"]:
            raise SlackError("not_archived")
        channel["is_archived"] = False
        return {}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), member=True)
        found = list(reversed(self.messages.get(channel["id"], [])))
        latest = args.get("latest")
        if latest:
            inclusive = _true(args.get("inclusive"))
            found = [m for m in found if m["ts"] < latest or (inclusive and m["ts"] == latest)]
        limit = int(args.get("limit") or 100)
        return {"messages": found[:limit], "has_more": len(found) > limit}

    def _post_target(self, args: dict[str, Any]) -> Any:
        channel = self._channel(args.get("channel"), open_=True)
        if not channel["is_member"] and not self.public_write:
            raise SlackError("not_in_channel")
        if not args.get("text") and not args.get("blocks"):
            raise SlackError("no_text")
        return channel

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._post_target(args)
        message = self._append(
            channel["id"],
            {"type": "message", "user": BOT_USER, "bot_id": "BTOCSIN", "text": args.get("text"),
             "blocks": _blocks(args.get("blocks"))},
        )  # fmt: skip
        return {"channel": channel["id"], "ts": message["ts"], "message": message}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"))
        message = self._message(channel["id"], args.get("ts"))
        message.update(text=args.get("text"), blocks=_blocks(args.get("blocks")), edited=True)
        return {"channel": channel["id"], "ts": message["ts"], "text": message["text"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._post_target(args)
        self.ephemeral.append({**args, "channel": channel["id"]})
        return {"message_ts": f"{1700000000 + next(self._ids)}.000000"}

    def _m_pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel"), member=True)
        self._message(channel["id"], args.get("timestamp"))
        pins = self.pins.setdefault(channel["id"], [])
        if str(args.get("timestamp")) in pins:
            raise SlackError("already_pinned")
        pins.append(str(args.get("timestamp")))
        return {}

    def _m_bookmarks_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel_id"), member=True)
        bookmark = {
            "id": f"Bk{next(self._ids):08d}",
            "channel_id": channel["id"],
            "title": args.get("title"),
            "link": args.get("link"),
            "type": args.get("type"),
        }
        self.bookmarks.setdefault(channel["id"], []).append(bookmark)
        return {"bookmark": bookmark}

    def _m_bookmarks_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args.get("channel_id"), member=True)
        return {"bookmarks": list(self.bookmarks.get(channel["id"], []))}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            raise SlackError("invalid_arguments")
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        opened = {**view, "id": f"V{next(self._ids):08d}", "hash": "1700000000.fakehash"}
        self.views.append({"trigger_id": args["trigger_id"], "view": opened})
        return {"view": opened}


def _true(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _blocks(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(json.loads(value))
    return list(value or [])


def _arguments(request: Request) -> dict[str, Any]:
    """Query, form and JSON arguments merged, as Slack reads them."""
    args: dict[str, Any] = dict(parse_qsl(request.query, keep_blank_values=True))
    content_type = request.header("content-type") or ""
    if "json" in content_type and request.body:
        args.update(json.loads(request.body))
    elif request.body:
        args.update(parse_qsl(request.body.decode(), keep_blank_values=True))
    return args


def signed_headers(
    secret: str, body: bytes, timestamp: int | str, content_type: str = "application/json"
) -> dict[str, str]:
    """The headers Slack sends with ``body``: timestamp and ``v0=`` HMAC-SHA256 signature."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": f"v0={digest}",
    }
