"""The Slack app manifest ``tocsin slack manifest`` prints: paste it at api.slack.com/apps
("Create New App" → "From an app manifest") and the app is configured in one step."""

from __future__ import annotations

import json
from typing import Any

import yaml  # type: ignore[import-untyped]

from tocsin.platforms.slack.events import EVENTS
from tocsin.platforms.slack.interactions import SHORTCUT_DECLARE, SHORTCUT_NOTE

BOT_SCOPES = (
    "commands",  # /incident, /inc and /oncall
    "chat:write",  # announcements, channel posts, ephemeral answers
    "chat:write.public",  # announce in a channel without joining it first
    "channels:manage",  # create, set the topic of, invite to and archive incident channels
    "channels:read",  # find a channel by name (name_taken); member_joined_channel
    "channels:join",  # join a channel tocsin did not create
    "channels:history",  # read a 📌-ed message; find an earlier attempt's post
    "groups:read",  # member_joined_channel in private channels
    "pins:read",  # pin_added
    "pins:write",  # pin the summary
    "reactions:read",  # reaction_added
    "bookmarks:read",  # do not bookmark twice after a retry
    "bookmarks:write",  # bookmark the dashboard link
    "users:read",
    "im:write",  # open a direct message to page someone (conversations.open)
)


def _command(
    name: str,
    url: str | None,
    description: str,
    hint: str = "declare <title> [P1..P4] [@commander] | update <text> | help",
) -> dict[str, Any]:
    command: dict[str, Any] = {
        "command": name,
        "description": description,
        "should_escape": True,  # @mentions arrive as <@U123>, so they name the right person
    }
    if hint:
        command["usage_hint"] = hint
    if url:
        command["url"] = url
    return command


def build_manifest(
    public_url: str, *, socket_mode: bool = False, name: str = "tocsin"
) -> dict[str, Any]:
    """The manifest for an app whose request URLs start with ``public_url``."""
    base = public_url.rstrip("/")
    url = None if socket_mode else f"{base}/slack/commands"
    events: dict[str, Any] = {"bot_events": list(EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        events["request_url"] = f"{base}/slack/events"
        interactivity["request_url"] = f"{base}/slack/interactions"
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Declare and run incidents: channels, updates, timeline, post-mortems.",
            "background_color": "#8b1a1a",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [
                _command("/incident", url, "Declare and run incidents"),
                _command("/inc", url, "Short for /incident"),
                _command("/oncall", url, "Who is on call now and next", ""),
            ],
            "shortcuts": [
                {
                    "name": "Declare an incident",
                    "type": "global",
                    "callback_id": SHORTCUT_DECLARE,
                    "description": "Open the declare form",
                },
                {
                    "name": "Add to incident timeline",
                    "type": "message",
                    "callback_id": SHORTCUT_NOTE,
                    "description": "Record this message as a note (in an incident channel)",
                },
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render(manifest: dict[str, Any], fmt: str = "yaml") -> str:
    """``yaml`` (the default the Slack UI shows) or ``json``."""
    if fmt == "json":
        return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
