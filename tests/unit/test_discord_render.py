"""Rendering neutral chat messages for Discord: Markdown escaping, embeds and buttons that fit
Discord's spec, mentions that ping only whom tocsin names, private answers, and the forms."""

from __future__ import annotations

from typing import Any

from fakes.discord_spec import check_interaction_response, check_request
from tocsin.chat import texts
from tocsin.chat.messages import Message, Reply
from tocsin.domain.commands import Mention
from tocsin.domain.model import Severity
from tocsin.platforms.discord.forms import declare_modal, read_declare, read_update, update_modal
from tocsin.platforms.discord.render import (
    STYLE,
    allowed_mentions,
    message_body,
    parse_custom_id,
    reply_response,
)

ALICE = {"platform": "discord", "user_id": "700000000000000005", "display_name": "alice"}
SNAP = {
    "number": 3,
    "ref": "INC-3",
    "title": "<@1> **everyone** @everyone down",
    "severity": "P1",
    "status": "investigating",
    "commander": ALICE,
    "url": "https://tocsin.example.com/incidents/3",
}
MESSAGES = "/channels/{channel_id}/messages"


def test_user_text_cannot_format_or_ping() -> None:
    """Markdown and mention syntax in user text is escaped, and allowed_mentions never lets
    @everyone, roles or a typed <@id> ping: only the people tocsin itself names."""
    escaped = STYLE.escape("<@1> **x** `y` - z\n# head")
    assert escaped == "\\<@1\\> \\*\\*x\\*\\* \\`y\\` - z\n\\# head"
    assert STYLE.escape("- item") == "\\- item"
    text = f"{STYLE.mention(ALICE)} wrote {escaped}"
    assert allowed_mentions(text) == {"parse": [], "users": ["700000000000000005"]}


def test_mentions_by_platform() -> None:
    """Discord people are <@id>; others (a Slack user, the CLI) show by name; nobody is said."""
    assert STYLE.mention(ALICE) == "<@700000000000000005>"
    assert STYLE.mention({"platform": "slack", "user_id": "U1", "display_name": "a_b"}) == "a\\_b"
    assert STYLE.mention(None) == "nobody"


def test_only_ascii_digits_are_discord_ids() -> None:
    """A "user id" of digits str.isdigit() takes but Discord never issues ("²") is shown by
    name, not as a <@²> mention, nor offered as the declare form's commander."""
    assert STYLE.mention({"platform": "discord", "user_id": "²", "display_name": "x"}) == "x"
    form = declare_modal(Severity.P3, commander=Mention("²"))
    fields = {c["label"]: c["component"] for c in form["data"]["components"]}
    assert "default_values" not in fields["Commander"]


def test_code_shows_usage_without_backslashes() -> None:
    """Inline code renders literally, so escapes are undone inside it (help reads cleanly)."""
    assert STYLE.code(STYLE.escape("declare <title> [P1..P4]")) == "`declare <title> [P1..P4]`"
    help_text = texts.help_message(STYLE).text
    assert "`/incident declare <title> [P1..P4] [@commander]`" in help_text


def test_announcement_is_an_embed_with_buttons_that_fits_the_spec() -> None:
    """The announcement becomes one embed (title, fields, severity colour, dashboard link) and
    an action row whose custom ids name the action and the incident; Resolve asks first."""
    message = texts.announcement(SNAP, STYLE, latest_update="Rolled back", channel_id="99")
    body = message_body(message)
    assert check_request("POST", MESSAGES, body) == []
    [embed] = body["embeds"]
    assert embed["title"].startswith("🔴 INC-3: ")
    assert embed["color"] == 0xD32F2F
    assert (
        "[Open in the tocsin dashboard](https://tocsin.example.com/incidents/3)"
        in (embed["description"])
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Commander"] == "<@700000000000000005>"
    assert fields["Channel"] == "<#99>"
    ids = [b["custom_id"] for b in body["components"][0]["components"]]
    assert ids == ["tocsin:join:3", "tocsin:ack:3", "tocsin:update:3", "tocsin:resolve:3:ask"]
    assert body["allowed_mentions"] == {"parse": [], "users": ["700000000000000005"]}


def test_plain_messages_are_content_cut_to_2000() -> None:
    """A message without a title or fields is plain content, cut to Discord's 2000 characters."""
    body = message_body(Message("x" * 2500))
    assert len(body["content"]) == 2000
    assert body["content"].endswith("…")
    assert "embeds" not in body


def test_replies_are_private_unless_public() -> None:
    """A private reply carries flag 64; a public one does not; a document becomes an embed."""
    private = reply_response(Reply(Message("only you")))
    public = reply_response(Reply(Message("everyone"), public=True, document="# PM\n" * 2000))
    assert private["data"]["flags"] == 64
    assert "flags" not in public["data"]
    [document] = public["data"]["embeds"]
    assert document["title"] == "Post-mortem"
    assert len(document["description"]) == 4096
    for answer in (private, public):
        assert check_interaction_response(answer) == []


def test_custom_ids_round_trip() -> None:
    """Our custom ids parse back; other apps' do not."""
    assert parse_custom_id("tocsin:resolve:3:yes") == ("resolve", "3", "yes")
    assert parse_custom_id("tocsin:join:3") == ("join", "3", "")
    assert parse_custom_id("someone-else:join:3") is None


# --- forms ----------------------------------------------------------------------------------
def test_forms_fit_the_spec_and_are_prefilled() -> None:
    """The declare form (title, severity select, commander select, description) and the update
    form are valid modal answers; the declare form is prefilled from what was given."""
    form = declare_modal(
        Severity.P3, title="DB  down", severity=Severity.P1, commander=Mention("42")
    )
    assert check_interaction_response(form) == []
    fields = {c["label"]: c["component"] for c in form["data"]["components"]}
    assert fields["Title"]["value"] == "DB down"
    assert [o["value"] for o in fields["Severity"]["options"] if o["default"]] == ["P1"]
    assert fields["Commander"]["default_values"] == [{"type": "user", "id": "42"}]
    assert check_interaction_response(update_modal(3, "INC-3")) == []


def submission(**values: Any) -> dict[str, Any]:
    """A submission in the label layout; ``row_`` values in the older action-row layout."""
    components = []
    for name, value in values.items():
        if name.startswith("row_"):
            inner = {"type": 4, "custom_id": name[4:], "value": value}
            components.append({"type": 1, "components": [inner]})
        else:
            key = "values" if isinstance(value, list) else "value"
            components.append({"type": 18, "component": {"custom_id": name, key: value}})
    return {"custom_id": "tocsin:declare:new", "components": components}


def test_declare_submissions_are_read_from_both_layouts() -> None:
    """Title (whitespace collapsed), severity, commander and description are read from label
    components and from action rows alike."""
    found = read_declare(
        submission(title=" DB   down ", severity=["P2"], commander=["42"], row_description="x"),
        {"42": "Bob"},
    )
    assert not isinstance(found, list)
    assert (found.title, found.severity, found.description) == ("DB down", Severity.P2, "x")
    assert found.commander == Mention("42", "Bob")
    assert read_update(submission(row_text=" better now ")) == "better now"


def test_bad_declare_submissions_say_what_is_wrong() -> None:
    """No title, an unknown severity: each problem as a sentence."""
    found = read_declare(submission(title=" ", severity=["P7"]), {})
    assert found == [
        "Give the incident a title, for example: Checkout is down.",
        "Choose a severity from P1 (critical) to P4 (low).",
    ]
