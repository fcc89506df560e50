"""Hypothesis strategies for what Slack and Discord could send: JSON of random shape, and the
vendored real payloads (tests/fixtures/slack/bolt_python, tests/fixtures/discord/docs_examples)
pointed at tocsin's own buttons, forms and channels, then mutated a few places deep.

Words that tocsin reacts to (its action ids, callback ids, incident channels, command words) are
drawn often, so near-valid requests reach the code behind the shape checks.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from fakes import FIXTURES

SLACK_CHANNEL = "CINC1"  # INC-1's Slack channel in the fuzz tests
DISCORD_CHANNEL = "700000000000000401"  # INC-1's Discord channel (the harness's INC_CHANNEL)

WORDS = [
    *("", "1", "0", "²", "INC-1", "INC-0", "#1", "99999999999999999999", "-1", "1.5", "P1"),
    *("tocsin:join", "tocsin:ack", "tocsin:resolve", "tocsin:update", "tocsin:x"),
    *("tocsin:ack:1", "tocsin:ack:1:ask", "tocsin:resolve:1:yes", "tocsin:cancel:1"),
    *("tocsin:update:1", "tocsin:update:²", "tocsin:declare:new", "tocsin:join:INC-1"),
    *("tocsin_declare", "tocsin_update", "tocsin_note", "block_actions", "view_submission"),
    *("shortcut", "message_action", "view_closed", "event_callback", "url_verification"),
    *("reaction_added", "pin_added", "member_joined_channel", "pushpin", "message"),
    *(SLACK_CHANNEL, DISCORD_CHANNEL, "U0ALICE", "700000000000000005", "incident", "inc"),
    *("Add to timeline", "Declare incident", "help", "note", "declare", "severity"),
    *('{"incident": 1}', '{"channel": "CINC1"}', '{"incident": "1"}', "{", "[]", "a\x00b"),
]
KEYS = [
    *("type", "id", "user", "name", "value", "values", "action_id", "callback_id", "view"),
    *("state", "private_metadata", "actions", "channel", "container", "channel_id", "event"),
    *("item", "ts", "message", "text", "selected_option", "selected_user", "options"),
    *("custom_id", "components", "component", "resolved", "users", "members", "messages"),
    *("target_id", "data", "member", "nick", "username", "authorizations", "is_bot"),
    *("title", "severity", "description", "commander", "trigger_id", "hash", "reaction"),
]
# Where tocsin reads deepest: mutations go down these keys two times in three.
FOCUS = frozenset(
    {"data", "options", "view", "state", "values", "actions", "event", "item", "resolved"}
    | {"components", "component", "messages", "message", "channel", "container", "user"}
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)
json_values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def _load(*parts: str) -> dict[str, Any]:
    return dict(json.loads(FIXTURES.joinpath(*parts).read_text()))


def _bolt(name: str, **changes: Any) -> dict[str, Any]:
    return {**_load("slack", "bolt_python", name), **changes}


def _view(name: str, callback: str, metadata: str, values: dict[str, Any]) -> dict[str, Any]:
    payload = _bolt(name)
    view = {**payload["view"], "callback_id": callback, "private_metadata": metadata}
    payload["view"] = {**view, "state": {"values": values}}
    return payload


_SLACK_CHANNEL = {"id": SLACK_CHANNEL, "name": "inc-1"}
SLACK_INTERACTIONS = [
    _bolt(
        "block_actions.json",
        channel=_SLACK_CHANNEL,
        actions=[
            {"action_id": f"tocsin:{name}", "value": "1", "type": "button", "action_ts": "1.2"}
            for name in ("ack", "join", "update", "resolve")
        ],
    ),
    _view(
        "view_submission.json",
        "tocsin_declare",
        json.dumps({"channel": SLACK_CHANNEL}),
        {
            "title": {"value": {"type": "plain_text_input", "value": "Checkout is down"}},
            "severity": {"value": {"selected_option": {"value": "P2"}}},
            "description": {"value": {"value": "Payments fail"}},
            "commander": {"value": {"selected_user": "U0ALICE"}},
        },
    ),
    _view(
        "view_submission_with_response_urls.json",
        "tocsin_update",
        json.dumps({"incident": 1}),
        {"text": {"value": {"type": "plain_text_input", "value": "Rolled back"}}},
    ),
    _bolt("global_shortcut.json", callback_id="tocsin_declare"),
    _bolt("message_shortcut.json", callback_id="tocsin_note", channel=_SLACK_CHANNEL),
    _bolt("view_closed.json"),
]
_item = {"type": "message", "channel": SLACK_CHANNEL, "ts": "1599529504.000400"}
SLACK_EVENTS = [
    _bolt("event_callback_reaction_added.json"),
    {
        **_bolt("event_callback_reaction_added.json"),
        "event": {"type": "reaction_added", "user": "U0BOB", "reaction": "pushpin", "item": _item},
    },
    {
        **_bolt("event_callback_app_mention.json"),
        "event": {"type": "pin_added", "user": "U0BOB", "channel_id": SLACK_CHANNEL, "item": _item},
    },
    {
        **_bolt("event_callback_app_mention.json"),
        "event": {"type": "member_joined_channel", "user": "U0CAROL", "channel": SLACK_CHANNEL},
    },
    _bolt("url_verification.json"),
]


def _discord(name: str) -> dict[str, Any]:
    return _load("discord", "docs_examples", name)


def _discord_interaction(kind: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**_discord("slash_command_interaction.json"), "type": kind, "data": data}


def _sub(name: str, **options: Any) -> dict[str, Any]:
    values = [{"name": key, "type": 3, "value": value} for key, value in options.items()]
    return {"type": 1, "name": name, "options": values}


_BOB = "700000000000000006"
_RESOLVED = {
    "users": {_BOB: {"id": _BOB, "username": "bob", "global_name": "Bob"}},
    "members": {_BOB: {"nick": "bobby"}},
}
_SUBCOMMANDS = [
    _sub("note", incident="INC-1", text="Rolled back"),
    _sub("help", subcommand="declare"),
    _sub("role", incident="INC-1", role="scribe", user=_BOB),
    _sub("severity", level="P2"),
    _sub("list", scope="all"),
]
_FORM = [
    {"type": 18, "component": {"type": 4, "custom_id": "title", "value": "Checkout is down"}},
    {"type": 18, "component": {"type": 3, "custom_id": "severity", "values": ["P1"]}},
    {"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "Rolled back"}]},
]
DISCORD_INTERACTIONS = [
    *(
        {
            **_discord("slash_command_interaction.json"),
            "channel_id": DISCORD_CHANNEL,
            "data": {
                "id": "1",
                "name": "incident",
                "type": 1,
                "options": [sub],
                "resolved": _RESOLVED,
            },
        }
        for sub in _SUBCOMMANDS
    ),
    {**_discord("message_command_interaction.json"), "channel_id": DISCORD_CHANNEL},
    _discord("user_command_interaction.json"),
    _discord_interaction(3, {"custom_id": "tocsin:ack:1:ask", "component_type": 2}),
    _discord_interaction(3, {"custom_id": "tocsin:update:1", "component_type": 2}),
    _discord_interaction(5, {"custom_id": "tocsin:declare:new", "components": _FORM}),
    _discord_interaction(5, {"custom_id": "tocsin:update:1", "components": _FORM}),
    {"type": 1, "id": "1", "application_id": "1"},
]
# The message commands by the names tocsin registers.
for _found in DISCORD_INTERACTIONS:
    if _found.get("data", {}).get("target_id") and _found["data"].get("type") == 3:
        _found["data"] = {**_found["data"], "name": "Add to timeline"}


def _confused(draw: st.DrawFn, node: Any) -> Any:
    """``node`` as another JSON type: an object as a string or a list, a string as an object."""
    return draw(
        st.sampled_from(
            [str(node)[:12], [node], {"value": node}, {"0": node}, 0, True, "", [], None, 10**20]
        )
    )


def _mutate(draw: st.DrawFn, node: Any, depth: int = 0) -> Any:
    """``node`` with one place changed somewhere below it: a value replaced by random JSON or
    by the same value as another type, or a key dropped. The payload itself stays an object."""
    descend = depth <= 1 or (depth < 8 and draw(st.integers(0, 9)) > 2)
    if isinstance(node, dict) and node and descend:
        keys = sorted(node)
        focus = [key for key in keys if key in FOCUS]
        key = draw(st.sampled_from(focus if focus and draw(st.integers(0, 2)) else keys))
        hows = ["descend"] * (8 if depth == 0 else 2) + ["confuse", "replace", "drop"]
        how = draw(st.sampled_from(hows))
        if how == "descend":
            node[key] = _mutate(draw, node[key], depth + 1)
        elif how == "confuse":
            node[key] = _confused(draw, node[key])
        elif how == "replace":
            node[key] = draw(json_values)
        else:
            del node[key]
        return node
    if isinstance(node, list) and node and descend:
        index = draw(st.integers(0, len(node) - 1))
        node[index] = _mutate(draw, node[index], depth + 1)
        return node
    return _confused(draw, node) if draw(st.booleans()) else draw(json_values)


@st.composite
def near(draw: st.DrawFn, bases: list[dict[str, Any]]) -> Any:
    """One of ``bases``, changed in zero to four places."""
    value = copy.deepcopy(draw(st.sampled_from(bases)))
    for _ in range(draw(st.integers(0, 4))):
        value = _mutate(draw, value)
    return value


@st.composite
def payloads(draw: st.DrawFn, bases: list[dict[str, Any]]) -> Any:
    """Mostly near-valid payloads, one in sixteen JSON of any shape (not on the 0 that
    Hypothesis favours)."""
    return draw(json_values if draw(st.integers(0, 15)) == 9 else near(bases))


COMMAND_PIECES = [
    *("declare", "note", "update", "show", "ack", "join", "resolve", "severity", "status"),
    *("role", "commander", "action", "list", "reopen", "postmortem", "oncall", "help", "?"),
    *("INC-1", "INC-0", "INC-99999999999999999999", "#1", "1", "P1", "sev-2", "<@U0BOB>"),
    *("@alice", "@here", "override", "now", "+8h", '"', "'", "“", "scribe", "monitoring"),
    "a\x00b",  # PostgreSQL cannot store a NUL in text
]
command_texts = st.lists(
    st.one_of(st.sampled_from(COMMAND_PIECES), st.text(max_size=8)), max_size=8
).map(" ".join)
_FORM_KEYS = ["command", "user_id", "user_name", "channel_id", "text", "trigger_id", "ssl_check"]
slash_forms = st.fixed_dictionaries(
    {
        "command": st.sampled_from(["/incident", "/inc", "/oncall", "", "/x"]),
        "user_id": st.sampled_from(["U0ALICE", "U0BOB", "", "²"]),
        "channel_id": st.sampled_from([SLACK_CHANNEL, "CGENERAL", ""]),
        "text": command_texts,
    },
    optional={
        "user_name": st.text(max_size=8),
        "trigger_id": st.sampled_from(["1.2.trigger", ""]),
        "response_url": st.text(max_size=8),
    },
) | st.dictionaries(st.sampled_from(_FORM_KEYS) | st.text(max_size=5), st.text(max_size=20))
