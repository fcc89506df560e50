"""Discord markup: render neutral chat messages and replies as Discord message bodies.

:class:`DiscordStyle` is Discord's :class:`~tocsin.chat.messages.Style` (its Markdown). A rich
:class:`~tocsin.chat.messages.Message` (one with a title, fields or a footer) becomes an embed,
coloured by severity; a plain one becomes ``content``. Buttons become action rows whose
``custom_id`` is ``tocsin:<action>:<incident>`` (``:ask`` when the button wants a confirmation).
``allowed_mentions`` lets only the people tocsin itself mentions be pinged: never ``@everyone``,
``@here`` or a role, whatever a title says.
"""

from __future__ import annotations

import re
from typing import Any

from tocsin.chat import texts
from tocsin.chat.messages import Button, Message, Person, Reply

CONTENT_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
BUTTONS_PER_ROW = 5
EPHEMERAL = 64  # message flag: only the person who asked sees it
CUSTOM_ID_PREFIX = "tocsin"
ASK = "ask"  # custom_id suffix: ask to confirm before acting
YES = "yes"  # custom_id suffix: confirmed

# Interaction response types.
PONG = 1
MESSAGE = 4
DEFERRED_MESSAGE = 5
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

_ESCAPE_RE = re.compile(r"([\\*_~`|<>\[\]#])")
_LIST_RE = re.compile(r"(?m)^(\s*)([-+])(?=\s)")
_UNESCAPE_RE = re.compile(r"\\([\\*_~`|<>\[\]#+-])")
_OUR_MENTION_RE = re.compile(r"(?<!\\)<@!?([0-9]{1,20})>")
_BUTTON_STYLE = {"primary": 1, "": 2, "success": 3, "danger": 4}
_SEVERITY_COLOUR = {"🔴": 0xD32F2F, "🟠": 0xF57C00, "🟡": 0xFBC02D, "🔵": 0x1976D2}


class DiscordStyle:
    """Discord Markdown: ``<@123>`` mentions, ``**bold**``, backslash escapes."""

    platform = "discord"

    def mention(self, person: Person | None) -> str:
        if not person:
            return "nobody"
        user_id = str(person.get("user_id") or "")
        if person.get("platform") == "discord" and user_id.isascii() and user_id.isdigit():
            return f"<@{user_id}>"
        return self.escape(str(person.get("display_name") or user_id or "someone"))

    def escape(self, text: str) -> str:
        return _LIST_RE.sub(r"\1\\\2", _ESCAPE_RE.sub(r"\\\1", text))

    def bold(self, text: str) -> str:
        return f"**{text}**"

    def code(self, text: str) -> str:
        """Inline code shows backslashes as typed, so escapes are undone inside it."""
        return "`" + _UNESCAPE_RE.sub(r"\1", text).replace("`", "ˋ") + "`"

    def link(self, url: str, label: str) -> str:
        safe = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
        return f"[{self.escape(label)}]({safe})"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"


STYLE = DiscordStyle()


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def custom_id(action: str, value: str, suffix: str = "") -> str:
    """``tocsin:<action>:<value>[:<suffix>]``, the id a button or a form comes back with."""
    parts = [CUSTOM_ID_PREFIX, action, value] + ([suffix] if suffix else [])
    return ":".join(parts)[:100]


def parse_custom_id(value: str) -> tuple[str, str, str] | None:
    """``(action, value, suffix)`` from one of our custom ids, else None."""
    parts = value.split(":")
    if len(parts) < 2 or parts[0] != CUSTOM_ID_PREFIX:
        return None
    return parts[1], parts[2] if len(parts) > 2 else "", parts[3] if len(parts) > 3 else ""


def allowed_mentions(*texts: str) -> dict[str, Any]:
    """Ping only the users tocsin mentioned itself (user text is escaped, so never matches)."""
    users: list[str] = []
    for text in texts:
        for user_id in _OUR_MENTION_RE.findall(text):
            if user_id not in users:
                users.append(user_id)
    return {"parse": [], "users": users[:100]}


def button(item: Button) -> dict[str, Any]:
    return {
        "type": 2,
        "style": _BUTTON_STYLE.get(item.style, 2),
        "label": cut(item.label, 80),
        "custom_id": custom_id(item.action, item.value, ASK if item.confirm else ""),
    }


def action_rows(buttons: tuple[Button, ...] | list[Button]) -> list[dict[str, Any]]:
    items = [button(b) for b in buttons[:25]]
    return [
        {"type": 1, "components": items[i : i + BUTTONS_PER_ROW]}
        for i in range(0, len(items), BUTTONS_PER_ROW)
    ]


def _embed(message: Message) -> dict[str, Any]:
    description = "\n\n".join(part for part in (message.body, message.footer) if part)
    embed: dict[str, Any] = {"title": cut(message.title or message.text, EMBED_TITLE_MAX)}
    if description:
        embed["description"] = cut(description, EMBED_DESCRIPTION_MAX)
    if message.fields:
        embed["fields"] = [
            {
                "name": cut(f.label, FIELD_NAME_MAX) or "—",
                "value": cut(f.value, FIELD_VALUE_MAX) or "—",
                "inline": True,
            }
            for f in message.fields[:25]
        ]
    colour = _SEVERITY_COLOUR.get((message.title or "")[:1])
    if colour is not None:
        embed["color"] = colour
    return embed


def is_rich(message: Message) -> bool:
    return bool(message.title or message.fields or message.footer)


def message_body(message: Message) -> dict[str, Any]:
    """A message create/edit body for ``message`` (without nonce or flags)."""
    body: dict[str, Any] = {}
    if is_rich(message):
        embed = _embed(message)
        body["embeds"] = [embed]
        mentions = allowed_mentions(
            embed.get("description", ""), *(f["value"] for f in embed.get("fields", []))
        )
    else:
        body["content"] = cut(message.text, CONTENT_MAX)
        mentions = allowed_mentions(body["content"])
    body["components"] = action_rows(message.buttons) if message.buttons else []
    body["allowed_mentions"] = mentions
    return body


def reply_data(reply: Reply) -> dict[str, Any]:
    """The ``data`` of an interaction response (or of an edit of ``@original``) for ``reply``."""
    data = message_body(reply.message)
    if reply.document:
        document = {
            "title": texts.POSTMORTEM,
            "description": cut(reply.document, EMBED_DESCRIPTION_MAX),
        }
        data["embeds"] = [*data.get("embeds", []), document][:10]
    if not reply.public:
        data["flags"] = EPHEMERAL
    return data


def reply_response(reply: Reply) -> dict[str, Any]:
    """A type 4 interaction response: in the channel, or only for the caller (flag 64)."""
    return {"type": MESSAGE, "data": reply_data(reply)}


def private(text: str) -> dict[str, Any]:
    """A short answer only the caller sees."""
    return {"type": MESSAGE, "data": private_data(text)}


def private_data(text: str) -> dict[str, Any]:
    content = cut(text, CONTENT_MAX)
    return {"content": content, "flags": EPHEMERAL, "allowed_mentions": allowed_mentions(content)}
