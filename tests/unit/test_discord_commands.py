"""Discord's application commands come from the one command table, fit Discord's spec and
limits, and read back into the same Command the text parser would build."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.discord_spec import check_request
from tocsin.domain.commands import SUBCOMMANDS, Command, Mention, Subcommand, parse
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Role, Severity, Status
from tocsin.platforms.discord.commands import command_definitions, command_from, options_of

DOCUMENTED_WORDS = {
    "declare": ["title", "severity", "commander"],
    "list": ["scope"],
    "show": ["incident"],
    "update": ["text", "incident"],
    "note": ["text", "incident"],
    "severity": ["level", "incident"],
    "status": ["state", "incident"],
    "commander": ["user", "incident"],
    "role": ["role", "user", "incident"],
    "join": ["incident"],
    "ack": ["incident"],
    "action": ["text", "incident", "owner"],
    "resolve": ["incident", "summary"],
    "reopen": ["incident"],
    "postmortem": ["incident"],
    "summary": ["incident", "text"],
    "visibility": ["visibility", "incident"],
    "components": ["components", "incident"],
    "oncall": ["person", "from", "to", "schedule"],
    "maintenance": ["action", "id", "start", "end", "title", "components", "description"],
    "help": ["subcommand"],
}


def subcommands() -> dict[str, dict[str, Any]]:
    [incident] = [c for c in command_definitions() if c["name"] == "incident"]
    return {sub["name"]: sub for sub in incident["options"]}


def test_every_subcommand_has_its_documented_words() -> None:
    """Each row of the command table is a Discord subcommand whose options carry the docs' words,
    required ones first."""
    subs = subcommands()
    assert list(subs) == list(SUBCOMMANDS)
    for name, words in DOCUMENTED_WORDS.items():
        options = subs[name].get("options", [])
        assert [o["name"] for o in options] == words, name
        required = [o["required"] for o in options]
        assert required == sorted(required, reverse=True), name


def test_choices_and_types() -> None:
    """Severity offers P1–P4, status the four states, role the four roles; people are user
    options; texts carry the domain's length limits."""
    subs = subcommands()
    declare = {o["name"]: o for o in subs["declare"]["options"]}
    assert [c["value"] for c in declare["severity"]["choices"]] == ["P1", "P2", "P3", "P4"]
    assert declare["severity"]["choices"][0]["name"] == "P1 · critical"
    assert declare["commander"]["type"] == 6
    assert declare["title"] == {
        "type": 3,
        "name": "title",
        "description": "What is broken, in a few words",
        "required": True,
        "max_length": 200,
    }
    status = {o["name"]: o for o in subs["status"]["options"]}
    assert [c["value"] for c in status["state"]["choices"]] == [s.value for s in Status]
    role = {o["name"]: o for o in subs["role"]["options"]}
    assert [c["value"] for c in role["role"]["choices"]] == [r.value for r in Role]
    assert role["user"]["type"] == 6


def test_definitions_fit_discords_spec_and_limits() -> None:
    """The bulk body validates against the PUT commands schema; /incident and /inc are the same;
    each stays under Discord's 8000-character budget for names, descriptions and choices."""
    body = command_definitions()
    assert check_request("PUT", "/applications/{application_id}/commands", body) == []
    chat = [c for c in body if c["type"] == 1]
    assert [c["name"] for c in chat] == ["incident", "inc"]
    assert chat[0]["options"] == chat[1]["options"]
    assert [c["name"] for c in body if c["type"] == 3] == ["Declare incident", "Add to timeline"]

    def size(node: dict[str, Any]) -> int:
        total = len(node.get("name", "")) + len(node.get("description", ""))
        total += sum(len(c["name"]) + len(c["value"]) for c in node.get("choices", []))
        return total + sum(size(o) for o in node.get("options", []))

    assert all(size(c) < 8000 for c in body)


def test_an_unknown_usage_token_fails_loudly() -> None:
    """A subcommand whose usage has a token Discord cannot express is an error, not a silently
    missing option."""
    odd = Subcommand("odd", "odd <when>", "?", SUBCOMMANDS["note"].build)
    with pytest.raises(ValueError, match="<when>"):
        options_of(odd)


def data(sub: str, **options: Any) -> dict[str, Any]:
    values = [
        {"name": k, "type": 6 if k in ("user", "owner", "commander", "person") else 3, "value": v}
        for k, v in options.items()
    ]
    users = {
        v["value"]: {"id": v["value"], "username": "bob", "global_name": "Bob"}
        for v in values
        if v["type"] == 6
    }
    return {
        "name": "incident",
        "type": 1,
        "options": [{"type": 1, "name": sub, "options": values}],
        "resolved": {"users": users, "members": {}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("sub", "options", "typed"),
    [
        ("declare", {"title": "Checkout  is down", "severity": "P1", "commander": "42"},
         "declare Checkout is down P1 <@42>"),
        ("list", {"scope": "all"}, "list all"),
        ("show", {"incident": "INC-3"}, "show INC-3"),
        ("update", {"text": "All good", "incident": "inc-3"}, "update INC-3 All good"),
        ("note", {"text": "Rolled back"}, "note Rolled back"),
        ("severity", {"level": "P2", "incident": "INC-3"}, "severity INC-3 P2"),
        ("status", {"state": "monitoring"}, "status monitoring"),
        ("commander", {"user": "42"}, "commander <@42>"),
        ("role", {"role": "scribe", "user": "42"}, "role scribe <@42>"),
        ("join", {}, "join"),
        ("ack", {"incident": "#7"}, "ack INC-7"),
        ("action", {"text": "Add alert", "owner": "42"}, "action Add alert <@42>"),
        ("resolve", {"summary": "Fixed"}, "resolve Fixed"),
        ("resolve", {}, "resolve"),
        ("reopen", {"incident": "12"}, "reopen INC-12"),
        ("postmortem", {}, "postmortem"),
        ("oncall", {}, "oncall"),
        ("oncall", {"person": "42", "from": " now", "to": "+8h"}, "oncall override <@42> now +8h"),
        ("oncall", {"person": "42", "from": "2026-12-01T09:00", "to": "+8h",
                    "schedule": "primary"},
         "oncall override <@42> 2026-12-01T09:00 +8h primary"),
        ("visibility", {"visibility": "public", "incident": "INC-3"}, "visibility INC-3 public"),
        ("visibility", {"visibility": "policy"}, "visibility policy"),
        ("components", {"components": "API, Web app"}, 'components API "Web app"'),
        ("components", {"components": "none", "incident": "3"}, "components INC-3 none"),
        ("summary", {"incident": "INC-3"}, "summary INC-3"),
        ("summary", {"text": "clear"}, "summary clear"),
        ("summary", {"text": "Bad config.\nWe canary now."}, "summary Bad config.\nWe canary now."),
        ("maintenance", {}, "maintenance"),
        ("maintenance", {"action": "list"}, "maintenance list"),
        ("maintenance", {"action": "schedule", "start": "now", "end": "+2h",
                         "title": "DB  upgrade", "components": "API, Web app",
                         "description": "Writes pause"},
         'maintenance schedule now +2h DB upgrade component:"API,Web app" -- Writes pause'),
        ("maintenance", {"action": "edit", "id": "#7", "end": "+4h"}, "maintenance edit 7 - +4h"),
        ("maintenance", {"action": "cancel", "id": "7"}, "maintenance cancel 7"),
        ("help", {"subcommand": "role"}, "help role"),
    ],
)  # fmt: skip
def test_options_read_back_like_the_typed_command(
    sub: str, options: dict[str, Any], typed: str
) -> None:
    """Discord's typed options give the Command the text parser gives for the same words (the
    person's display name comes from the interaction's resolved users)."""
    got = command_from(data(sub, **options))
    expected = parse(typed)
    if expected.person is not None:
        expected = Command(**{**_fields(expected), "person": Mention("42", "Bob")})
    assert got == expected


def _fields(command: Command) -> dict[str, Any]:
    return {name: getattr(command, name) for name in Command.__slots__}


@pytest.mark.parametrize(
    ("sub", "options", "words"),
    [
        ("update", {}, "update needs the text"),
        ("update", {"text": "  "}, "update needs the text"),
        ("update", {"text": "x", "incident": "twelve"}, "write it like INC-12"),
        ("severity", {"level": "P9"}, '"P9" is not a severity'),
        ("declare", {"title": "x" * 201}, "keep it to 200"),
        ("role", {"role": "chef", "user": "42"}, '"chef" is not a role'),
        ("summary", {"text": "x" * 2001}, "keep it to 2000"),
        ("maintenance", {"action": "frob"}, '"frob" is not list, schedule, edit or cancel'),
        ("oncall", {"from": "now", "to": "+8h"}, "needs the person to put on call"),
        ("oncall", {"person": "42", "from": "now"}, "needs a start"),
        ("oncall", {"person": "42", "schedule": "primary"}, "optionally the schedule"),
        ("visibility", {}, "visibility needs public, private or policy"),
        ("visibility", {"visibility": "hidden"}, '"hidden" is not a visibility'),
        ("components", {}, "components needs the names"),
        ("components", {"components": " , "}, "components needs the names"),
    ],
)
def test_impossible_values_are_parse_errors_with_usage(
    sub: str, options: dict[str, Any], words: str
) -> None:
    """Values the options cannot hold (Discord checks most, tocsin checks again) raise
    ParseError with the subcommand's usage line."""
    with pytest.raises(ParseError, match=words) as caught:
        command_from(data(sub, **options))
    assert caught.value.usage == SUBCOMMANDS[sub].usage


def test_no_subcommand_is_a_parse_error() -> None:
    """An interaction without a subcommand points at help."""
    with pytest.raises(ParseError, match="/incident help"):
        command_from({"name": "incident", "type": 1, "options": []})


def test_severity_and_status_are_enums() -> None:
    """Values come back as the domain's types, not strings."""
    command = command_from(data("declare", title="x", severity="P4"))
    assert command.severity is Severity.P4
    assert command_from(data("status", state="resolved")).status is Status.RESOLVED


@pytest.mark.parametrize(
    ("options", "words", "usage"),
    [
        ({"action": "schedule", "start": "now", "end": "+2h"}, "needs a start, an end and a title",
         "maintenance schedule <start>"),
        ({"action": "cancel"}, "needs the maintenance's id", "maintenance cancel <id>"),
        ({"action": "edit", "id": "x"}, '"x" is not a maintenance id', "maintenance edit <id>"),
        ({"action": "edit", "id": "7"}, "a new start or a new end", "maintenance edit <id>"),
    ],
)  # fmt: skip
def test_maintenance_options_that_cannot_run_name_the_forms_usage(
    options: dict[str, Any], words: str, usage: str
) -> None:
    """A maintenance form missing what it needs is a ParseError with that form's usage line."""
    with pytest.raises(ParseError, match=words) as caught:
        command_from(data("maintenance", **options))
    assert caught.value.usage.startswith(usage)


def test_summary_text_takes_2000_characters_and_says_clear() -> None:
    """summary's optional text option is limited to the summary's 2,000 characters (not the
    4,000 of other texts) and its description says how to remove or see the summary."""
    [text] = [o for o in subcommands()["summary"]["options"] if o["name"] == "text"]
    assert text["max_length"] == 2000
    assert "clear" in text["description"]
    assert len(text["description"]) <= 100


def test_oncall_offers_the_override_options_and_visibility_its_three_words() -> None:
    """`oncall` takes an optional user option `person` and optional strings `from`, `to` and
    `schedule` (its override form); `visibility` offers exactly public, private and policy."""
    options = {o["name"]: o for o in subcommands()["oncall"]["options"]}
    assert {name: (o["type"], o["required"]) for name, o in options.items()} == {
        "person": (6, False), "from": (3, False), "to": (3, False), "schedule": (3, False),
    }  # fmt: skip
    [chosen] = [o for o in subcommands()["visibility"]["options"] if o["name"] == "visibility"]
    assert chosen["required"] is True
    assert [c["value"] for c in chosen["choices"]] == ["public", "private", "policy"]
