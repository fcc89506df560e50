"""The policy: the built-in defaults, the TOML file laid over them, and one line per problem."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tocsin.domain.errors import PolicyError
from tocsin.domain.model import Actor, Severity
from tocsin.domain.permissions import MAINTAIN
from tocsin.domain.policy import (
    COMMANDS,
    DEFAULT_PERMISSIONS,
    Component,
    Escalation,
    Policy,
    Schedule,
    SeverityRule,
    default_policy,
)
from tocsin.domain.policy_file import load_policy, parse_policy

DOCUMENTED_EXAMPLE = """
[admins]                        # platform -> user ids allowed everything
slack = ["U0ADMIN"]
discord = ["700000000000000001"]

[severity.P1]                   # one table per severity; keys not given keep the defaults above
announce = true
page = true
escalation = "default"
statuspage = true
update_reminder_minutes = 15

[permissions]                   # subcommand -> roles (commander, deputy, scribe, comms, admin, anyone)
resolve = ["commander", "admin"]

[[schedule]]
name = "primary"
timezone = "Europe/Berlin"
rotation = "weekly"             # daily | weekly | or hours = 12
handoff = "monday 09:00"
members = ["slack:U0ALICE", "slack:U0BOB", "discord:700000000000000005"]

[[escalation]]
name = "default"
levels = [["schedule:primary"], ["slack:U0LEAD"]]   # each level: schedules and/or people
escalate_after_minutes = 5
repeat = 2

[[component]]
name = "API"
description = "Public REST API"
"""  # noqa: E501 (copied from docs/policy.md as it is)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def parse(text: str) -> Policy:
    return parse_policy(tomllib.loads(text), "policy.toml")


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse(text)
    return caught.value.problems


# --- defaults ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("severity", "announce", "page", "escalation", "statuspage", "reminder", "component"),
    [
        (Severity.P1, True, True, "default", True, 15, "major_outage"),
        (Severity.P2, True, True, "default", True, 30, "partial_outage"),
        (Severity.P3, True, False, None, False, 60, "degraded_performance"),
        (Severity.P4, False, False, None, False, None, None),
    ],
)
def test_default_routing_matches_the_documented_table(
    severity: Severity,
    announce: bool,
    page: bool,
    escalation: str | None,
    statuspage: bool,
    reminder: int | None,
    component: str | None,
) -> None:
    """Each severity row of docs/policy.md's defaults is the built-in rule."""
    assert default_policy().rule(severity) == SeverityRule(
        announce, page, escalation, statuspage, reminder, component, {}
    )


@pytest.mark.parametrize(
    ("command", "roles"),
    [
        ("declare", {"anyone"}),
        ("list", {"anyone"}),
        ("show", {"anyone"}),
        ("update", {"commander", "deputy", "comms", "admin"}),
        ("note", {"anyone"}),
        ("severity", {"commander", "admin"}),
        ("status", {"commander", "admin"}),
        ("commander", {"commander", "admin"}),
        ("role", {"commander", "admin"}),
        ("join", {"anyone"}),
        ("ack", {"anyone"}),
        ("action", {"anyone"}),
        ("resolve", {"commander", "admin"}),
        ("reopen", {"commander", "admin"}),
        ("postmortem", {"anyone"}),
        ("visibility", {"commander", "admin"}),
        ("components", {"commander", "deputy", "comms", "admin"}),
        ("oncall", {"anyone"}),
        ("alerts", {"anyone"}),
        ("help", {"anyone"}),
    ],
)
def test_default_permissions_match_the_documented_table(command: str, roles: set[str]) -> None:
    """Each row of the documented command table is the built-in permission."""
    assert default_policy().roles_allowed(command) == roles


def test_the_command_table_covers_every_subcommand() -> None:
    """Every subcommand has a default permission, and so has ``maintain`` (scheduling
    maintenance from chat, admins only); there are no others."""
    assert set(DEFAULT_PERMISSIONS) == {*COMMANDS, MAINTAIN}
    assert DEFAULT_PERMISSIONS[MAINTAIN] == {"admin"}
    assert len(COMMANDS) == 22


def test_default_policy_has_no_admins_schedules_or_components_and_p3_default() -> None:
    """Out of the box nobody but the CLI user is admin and a declaration without one is P3."""
    policy = default_policy()
    assert policy.admins == {}
    assert policy.schedules == ()
    assert policy.components == ()
    assert policy.default_severity is Severity.P3
    assert policy.escalations == (Escalation("default", (), 5, 2),)


def test_an_empty_file_is_the_default_policy() -> None:
    """A file that says nothing keeps every default."""
    assert parse("") == default_policy()


def test_unknown_command_allows_only_admins() -> None:
    """roles_allowed fails closed: an unknown subcommand allows no role."""
    assert default_policy().roles_allowed("frobnicate") == frozenset()


def test_policy_tables_are_read_only() -> None:
    """A loaded policy cannot be changed by accident at run time."""
    policy = parse(DOCUMENTED_EXAMPLE)
    with pytest.raises(TypeError):
        policy.permissions["resolve"] = frozenset({"anyone"})  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.rule(Severity.P1).announce_channels["slack"] = "C1"  # type: ignore[index]


# --- the documented example and overrides ------------------------------------------------------
def test_the_documented_example_loads(tmp_path: Path) -> None:
    """docs/policy.md's example policy file loads and means what it says."""
    path = tmp_path / "policy.toml"
    path.write_text(DOCUMENTED_EXAMPLE, encoding="utf-8")
    policy = load_policy(path)
    assert policy.admins == {"slack": {"U0ADMIN"}, "discord": {"700000000000000001"}}
    assert policy.severities == default_policy().severities
    assert policy.permissions == DEFAULT_PERMISSIONS
    assert policy.schedules == (
        Schedule(
            "primary",
            "Europe/Berlin",
            "weekly",
            None,
            "monday 09:00",
            ("slack:U0ALICE", "slack:U0BOB", "discord:700000000000000005"),
        ),
    )
    assert policy.escalations == (
        Escalation("default", (("schedule:primary",), ("slack:U0LEAD",)), 5, 2),
    )
    assert policy.escalation("default") == policy.escalations[0]
    assert policy.schedule("primary") == policy.schedules[0]
    assert policy.components == (Component("API", "Public REST API"),)


def test_every_toml_example_in_the_docs_loads() -> None:
    """Each ```toml block in docs/policy.md is a valid policy on its own."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 3
    for block in blocks:
        assert isinstance(parse(block), Policy)


def test_keys_not_given_keep_the_defaults() -> None:
    """Overriding one key of a severity leaves its other keys and the other severities alone."""
    policy = parse("[severity.P2]\nupdate_reminder_minutes = 20\n")
    assert policy.rule(Severity.P2).update_reminder_minutes == 20
    assert policy.rule(Severity.P2).page is True
    assert policy.rule(Severity.P2).escalation == "default"
    assert policy.rule(Severity.P1) == default_policy().rule(Severity.P1)


def test_false_turns_off_optional_settings() -> None:
    """`false` says "none" for a reminder, a component status and (with page off) escalation."""
    policy = parse(
        "[severity.P1]\nupdate_reminder_minutes = false\ncomponent_status = false\n"
        "page = false\nescalation = false\n"
    )
    rule = policy.rule(Severity.P1)
    assert (rule.update_reminder_minutes, rule.component_status) == (None, None)
    assert (rule.page, rule.escalation) == (False, None)


def test_turning_paging_on_uses_the_default_escalation() -> None:
    """A severity that starts paging without naming an escalation uses "default"."""
    assert parse("[severity.P3]\npage = true\n").rule(Severity.P3).escalation == "default"


def test_turning_paging_off_drops_the_escalation() -> None:
    """A severity that stops paging has no escalation, so the rule stays consistent."""
    assert parse("[severity.P1]\npage = false\n").rule(Severity.P1).escalation is None


def test_announce_channels_per_severity() -> None:
    """slack_channel and discord_channel route one severity's announcement elsewhere."""
    policy = parse('[severity.P1]\nslack_channel = "C0MAJOR"\ndiscord_channel = "900"\n')
    assert policy.rule(Severity.P1).announce_channels == {"slack": "C0MAJOR", "discord": "900"}
    assert policy.rule(Severity.P2).announce_channels == {}


def test_permissions_override_only_the_subcommands_given() -> None:
    """A [permissions] entry replaces that subcommand's roles; the rest keep the defaults."""
    policy = parse('[permissions]\nresolve = ["deputy"]\ndeclare = ["admin"]\n')
    assert policy.roles_allowed("resolve") == {"deputy"}
    assert policy.roles_allowed("declare") == {"admin"}
    assert policy.roles_allowed("update") == DEFAULT_PERMISSIONS["update"]


def test_default_severity_can_be_changed() -> None:
    """Top-level default_severity picks the severity of a declaration that names none."""
    assert parse('default_severity = "P2"\n').default_severity is Severity.P2


@pytest.mark.parametrize(
    ("schedule", "rotation", "hours", "handoff"),
    [
        ('rotation = "daily"', "daily", None, "09:00"),
        ('rotation = "weekly"\nhandoff = "Friday 17:30"', "weekly", None, "friday 17:30"),
        ("hours = 12", "hours", 12, "09:00"),
        ('rotation = "hours"\nhours = 8\nhandoff = "06:00"', "hours", 8, "06:00"),
    ],
)
def test_schedule_rotations(schedule: str, rotation: str, hours: int | None, handoff: str) -> None:
    """daily, weekly and hour shifts are understood, with a handoff default for each."""
    policy = parse(f'[[schedule]]\nname = "s"\nmembers = ["slack:U1"]\n{schedule}\n')
    assert policy.schedules[0].rotation == rotation
    assert policy.schedules[0].hours == hours
    assert policy.schedules[0].handoff == handoff
    assert policy.schedules[0].timezone == "UTC"


def test_builtin_default_escalation_pages_every_schedule() -> None:
    """Without an escalation called "default", the built-in one pages all schedules' on-call."""
    policy = parse(
        '[[schedule]]\nname = "a"\nrotation = "daily"\nmembers = ["slack:U1"]\n'
        '[[schedule]]\nname = "b"\nhours = 12\nmembers = ["discord:2"]\n'
        '[[escalation]]\nname = "db"\nlevels = [["schedule:b"]]\n'
    )
    assert policy.escalation("db") == Escalation("db", (("schedule:b",),), 5, 0)
    assert policy.escalation("default") == Escalation(
        "default", (("schedule:a", "schedule:b"),), 5, 2
    )


@pytest.mark.parametrize(
    ("actor", "admin"),
    [
        (Actor("slack", "U0ADMIN"), True),
        (Actor("discord", "700000000000000001"), True),
        (Actor("discord", "U0ADMIN"), False),
        (Actor("slack", "700000000000000001"), False),
        (Actor("slack", "U0ALICE"), False),
        (Actor("web", "U0ADMIN"), False),
        (Actor("cli", "root"), True),
    ],
)
def test_admins_are_per_platform_and_the_cli_user_is_admin(actor: Actor, admin: bool) -> None:
    """An id is admin only on the platform it is listed under; the local CLI user always is."""
    assert parse(DOCUMENTED_EXAMPLE).is_admin(actor) is admin


# --- problems ----------------------------------------------------------------------------------
SCHEDULE = '[[schedule]]\nname = "primary"\nrotation = "weekly"\nmembers = ["slack:U1"]\n'
CASES: list[tuple[str, str]] = [
    ("[severity.P5]\npage = true", "severity.P5: unknown severity (expected P1, P2, P3 or P4)"),
    (
        "[severity.P1]\nanounce = true",
        'severity.P1.anounce: unknown key (did you mean "announce"?)',
    ),
    ("[severity.P1]\npage = 1", "severity.P1.page: expected true or false, got 1"),
    (
        '[severity.P1]\nstatuspage = "yes"',
        'severity.P1.statuspage: expected true or false, got "yes"',
    ),
    (
        "[severity.P2]\nupdate_reminder_minutes = 0",
        "severity.P2.update_reminder_minutes: expected a positive number of minutes, "
        "or false for no reminder, got 0",
    ),
    (
        "[severity.P2]\nupdate_reminder_minutes = 7.5",
        "severity.P2.update_reminder_minutes: expected a positive number of minutes, "
        "or false for no reminder, got 7.5",
    ),
    (
        '[severity.P1]\ncomponent_status = "down"',
        "severity.P1.component_status: expected degraded_performance, partial_outage, "
        'major_outage, under_maintenance or false, got "down"',
    ),
    (
        '[severity.P1]\nescalation = "nightly"',
        'severity.P1.escalation: unknown escalation "nightly" (known: default)',
    ),
    (
        "[severity.P1]\nescalation = false",
        'severity.P1.escalation: page is on, so it needs one ("default" is built in)',
    ),
    (
        '[severity.P3]\nescalation = "default"',
        "severity.P3.escalation: page is off, so no escalation is used; "
        "remove it or set page = true",
    ),
    ('[severity.P1]\nslack_channel = ""', 'severity.P1.slack_channel: expected some text, got ""'),
    ('severity = "P1"', 'severity: expected a table, got "P1"'),
    (
        '[permissions]\nresolv = ["commander"]',
        'permissions.resolv: unknown subcommand (did you mean "resolve"?)',
    ),
    (
        '[permissions]\nupdate = ["commandr"]',
        'permissions.update: unknown role "commandr" '
        "(expected commander, deputy, scribe, comms, admin or anyone)",
    ),
    (
        '[permissions]\nupdate = "commander"',
        'permissions.update: expected a list of text such as ["a", "b"], got "commander"',
    ),
    (
        '[permissions]\nlist = ["deputy"]',
        'permissions.list: list is not about one incident, so use "anyone" or "admin", not deputy',
    ),
    ('[admins]\nslak = ["U1"]', 'admins.slak: unknown platform (did you mean "slack"?)'),
    (
        "[admins]\nslack = [1]",
        'admins.slack: expected a list of text such as ["a", "b"], got a list',
    ),
    (
        "anounce = true",
        "anounce: unknown key (expected admins, severity, permissions, schedule, "
        "escalation, component, default_severity, alert_route, monitor or person)",
    ),
    ('default_severity = "P0"', 'default_severity: expected P1, P2, P3 or P4, got "P0"'),
    (
        '[schedule]\nname = "x"',
        "schedule: expected [[schedule]] entries (an array of tables), got a table",
    ),
    (
        SCHEDULE + 'timezone = "Europe/Berln"',
        'schedule[0].timezone: unknown timezone "Europe/Berln" '
        '(use an IANA name such as "Europe/Berlin")',
    ),
    (
        SCHEDULE + 'handoff = "mon 9am"',
        'schedule[0].handoff: bad handoff "mon 9am" for a weekly rotation '
        '(expected e.g. "monday 09:00")',
    ),
    (
        SCHEDULE.replace("weekly", "daily") + 'handoff = "24:00"',
        'schedule[0].handoff: bad handoff "24:00" for a daily rotation (expected e.g. "09:00")',
    ),
    (
        SCHEDULE.replace("weekly", "fortnightly"),
        'schedule[0].rotation: expected "daily", "weekly" or "hours", got "fortnightly"',
    ),
    (
        '[[schedule]]\nname = "s"\nmembers = ["slack:U1"]',
        'schedule[0].rotation: missing (use "daily", "weekly", or hours = N for shifts of N hours)',
    ),
    (
        SCHEDULE + "hours = 12",
        'schedule[0].hours: only used with hour shifts, not rotation = "weekly"',
    ),
    (
        SCHEDULE.replace('"weekly"', '"hours"'),
        'schedule[0].hours: rotation is "hours", so say how many: hours = 12',
    ),
    (
        '[[schedule]]\nname = "s"\nmembers = ["slack:U1"]\nhours = 0',
        "schedule[0].hours: expected a positive whole number, got 0",
    ),
    (
        SCHEDULE.replace('["slack:U1"]', "[]"),
        "schedule[0].members: a schedule needs at least one member",
    ),
    (
        SCHEDULE.replace("slack:U1", "U1"),
        'schedule[0].members: "U1" is not of the form platform:user_id (e.g. "slack:U0ALICE")',
    ),
    (
        SCHEDULE.replace("slack:U1", "teams:U1"),
        'schedule[0].members: unknown platform in "teams:U1" '
        "(expected slack, discord, web, api or cli)",
    ),
    (SCHEDULE + "member = 1", 'schedule[0].member: unknown key (did you mean "members"?)'),
    (SCHEDULE + SCHEDULE, 'schedule[1].name: duplicate schedule name "primary"'),
    (
        '[[schedule]]\nrotation = "daily"\nmembers = ["slack:U1"]',
        "schedule[0].name: every schedule needs a name",
    ),
    (
        SCHEDULE + '[[escalation]]\nname = "e"\nlevels = [["schedule:secondary"]]',
        'escalation[0].levels[0]: unknown schedule in "schedule:secondary" (known: primary)',
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["schedule:primary"]]',
        'escalation[0].levels[0]: unknown schedule in "schedule:primary" (known: none are defined)',
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = ["slack:U1"]',
        "escalation[0].levels: expected a list of levels, each a list of targets, "
        'e.g. [["schedule:primary"], ["slack:U0LEAD"]]',
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["slack:U1"], []]',
        "escalation[0].levels[1]: a level needs at least one target",
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["slack:U1"]]\nescalate_after_minutes = 0',
        "escalation[0].escalate_after_minutes: expected a positive whole number, got 0",
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["slack:U1"]]\nescalate_after_minutes = -5',
        "escalation[0].escalate_after_minutes: expected a positive whole number, got -5",
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["slack:U1"]]\nrepeat = -1',
        "escalation[0].repeat: expected a whole number, 0 or more, got -1",
    ),
    (
        '[[escalation]]\nname = "e"\nlevels = [["slack:U1"]]\n' * 2,
        'escalation[1].name: duplicate escalation name "e"',
    ),
    (
        '[[component]]\nname = "API"\n[[component]]\nname = "API"',
        'component[1].name: duplicate component name "API"',
    ),
    (
        '[[component]]\nname = "API"\ndescription = 3',
        "component[0].description: expected text, got 3",
    ),
]


@pytest.mark.parametrize(("text", "line"), CASES)
def test_each_problem_is_one_line_naming_file_key_and_fault(text: str, line: str) -> None:
    """A mistake is reported as exactly one line, "<file>: <key path>: <what is wrong>"."""
    assert problems(text) == [f"policy.toml: {line}"]


def test_a_named_escalation_can_be_used_by_a_severity() -> None:
    """severity.*.escalation may name any [[escalation]], not only "default"."""
    policy = parse(
        '[[escalation]]\nname = "db"\nlevels = [["slack:U1"]]\n[severity.P2]\nescalation = "db"\n'
    )
    assert policy.rule(Severity.P2).escalation == "db"


def test_several_problems_are_reported_together() -> None:
    """Every problem in the file is listed at once, in file order, not only the first."""
    found = problems(
        'default_severity = "P7"\n'
        "[severity.P1]\nanounce = true\nupdate_reminder_minutes = -1\n"
        '[permissions]\nresolve = ["boss"]\n'
        '[[schedule]]\nname = "a"\ntimezone = "Mars/Olympus"\nrotation = "daily"\n'
        'members = ["slack:U1"]\n'
    )
    assert found == [
        'policy.toml: severity.P1.anounce: unknown key (did you mean "announce"?)',
        "policy.toml: severity.P1.update_reminder_minutes: expected a positive number of "
        "minutes, or false for no reminder, got -1",
        'policy.toml: permissions.resolve: unknown role "boss" '
        "(expected commander, deputy, scribe, comms, admin or anyone)",
        'policy.toml: schedule[0].timezone: unknown timezone "Mars/Olympus" '
        '(use an IANA name such as "Europe/Berlin")',
        'policy.toml: default_severity: expected P1, P2, P3 or P4, got "P7"',
    ]


def test_policy_error_message_is_the_problems_one_per_line() -> None:
    """str(PolicyError) is what start-up prints: one problem per line."""
    with pytest.raises(PolicyError) as caught:
        parse("[severity.P9]\n[severity.P1]\npage = 2\n")
    assert str(caught.value).splitlines() == caught.value.problems
    assert len(caught.value.problems) == 2


def test_parse_policy_names_a_placeholder_source_by_default() -> None:
    """Without a file name, problems say <policy>."""
    data: dict[str, Any] = {"severity": {"P0": {}}}
    with pytest.raises(PolicyError, match=r"^<policy>: severity\.P0: unknown severity"):
        parse_policy(data)


# --- load_policy -------------------------------------------------------------------------------
def test_toml_syntax_error_is_one_line_with_the_file_name(tmp_path: Path) -> None:
    """A file that is not TOML gives one line naming the file and where it broke."""
    path = tmp_path / "policy.toml"
    path.write_text("[severity.P1]\nannounce = \n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{path}: not valid TOML: ")
    assert "line 2" in caught.value.problems[0]


def test_a_missing_file_is_one_line_with_the_file_name(tmp_path: Path) -> None:
    """A policy file that does not exist is reported, not a traceback."""
    path = tmp_path / "nope.toml"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.problems == [
        f"{path}: cannot read the policy file: No such file or directory"
    ]


def test_a_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    """Binary junk is reported as such."""
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.problems == [f"{path}: the policy file is not UTF-8 text"]


def test_load_policy_problems_name_the_file(tmp_path: Path) -> None:
    """Problems found in a loaded file start with that file's path."""
    path = tmp_path / "policy.toml"
    path.write_text("[severity.P5]\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert caught.value.problems == [
        f"{path}: severity.P5: unknown severity (expected P1, P2, P3 or P4)"
    ]
