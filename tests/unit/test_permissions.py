"""Who may run what: admins, open commands, incident roles, and the reason given when denied."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from tocsin.domain.model import Actor, Incident, Role, Severity
from tocsin.domain.permissions import COMMANDS, Decision, decide
from tocsin.domain.policy import Policy, default_policy
from tocsin.domain.policy_file import parse_policy

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")
CAROL = Actor("discord", "700000000000000003", "carol")
DAN = Actor("slack", "U0DAN", "dan")
EVE = Actor("slack", "U0EVE", "eve")
OUTSIDER = Actor("slack", "U0NOBODY", "nobody")
PEOPLE = {"commander": ALICE, "deputy": BOB, "scribe": CAROL, "comms": DAN, "none": OUTSIDER}


def incident() -> Incident:
    """INC-4: alice commands, bob is deputy, carol scribe, dan comms."""
    inc, _ = Incident.declare(4, "Checkout is down", Severity.P1, ALICE, NOW)
    inc.roles.update({Role.DEPUTY: BOB, Role.SCRIBE: CAROL, Role.COMMS: DAN})
    return inc


def policy(text: str = "") -> Policy:
    return parse_policy(tomllib.loads(text), "policy.toml")


# docs/commands.md's command table, written out again so the test pins the docs, not the code.
EVERYONE = {"commander", "deputy", "scribe", "comms", "none"}
DOCUMENTED_TABLE: dict[str, set[str]] = {
    "declare": EVERYONE, "list": EVERYONE, "show": EVERYONE, "note": EVERYONE,
    "join": EVERYONE, "ack": EVERYONE, "action": EVERYONE, "postmortem": EVERYONE,
    "oncall": EVERYONE, "maintenance": EVERYONE, "alerts": EVERYONE, "help": EVERYONE,
    "summary": {"commander"}, "visibility": {"commander"},
    "update": {"commander", "deputy", "comms"}, "components": {"commander", "deputy", "comms"},
    "severity": {"commander"},
    "status": {"commander"}, "resolve": {"commander"}, "reopen": {"commander"},
    "commander": {"commander"}, "role": {"commander"},
}  # fmt: skip


def test_the_documented_table_names_every_subcommand() -> None:
    """The table below covers every subcommand, so the matrix test is complete."""
    assert set(DOCUMENTED_TABLE) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_default_table_for_every_subcommand_and_role(command: str, who: str) -> None:
    """Each subcommand × incident role is allowed exactly as the documented command table says."""
    decision = decide(default_policy(), command, PEOPLE[who], incident())
    assert decision.allowed is (who in DOCUMENTED_TABLE[command])
    if decision.allowed:
        assert decision.reason in {"anyone", who}
    else:
        assert decision.reason.startswith("Only ")


@pytest.mark.parametrize("command", COMMANDS)
def test_admins_may_run_everything(command: str) -> None:
    """An admin listed for their platform may run every subcommand, with or without a role."""
    admin = policy('[admins]\nslack = ["U0EVE"]\n')
    assert decide(admin, command, EVE, incident()) == Decision(True, "admin")
    assert decide(admin, command, EVE, None) == Decision(True, "admin")


@pytest.mark.parametrize("command", COMMANDS)
def test_the_cli_user_is_an_admin(command: str) -> None:
    """Whoever runs the local CLI is allowed everything, with no [admins] entry."""
    root = Actor("cli", "root", "root")
    assert decide(default_policy(), command, root, incident()) == Decision(True, "admin")


def test_admins_are_per_platform() -> None:
    """An id listed for Slack is not an admin when the same id comes from Discord."""
    admin = policy('[admins]\nslack = ["U0EVE"]\ndiscord = ["700000000000000009"]\n')
    assert decide(admin, "resolve", EVE, incident()).allowed
    assert decide(admin, "resolve", Actor("discord", "700000000000000009"), incident()).allowed
    assert not decide(admin, "resolve", Actor("discord", "U0EVE"), incident()).allowed
    assert not decide(admin, "resolve", Actor("web", "U0EVE"), incident()).allowed


def test_admin_overrides_even_an_empty_permission_list() -> None:
    """An empty list means admins only: nobody else, not even the commander."""
    admins_only = policy('[admins]\nslack = ["U0EVE"]\n[permissions]\nreopen = []\n')
    assert decide(admins_only, "reopen", EVE, incident()).allowed
    denied = decide(admins_only, "reopen", ALICE, incident())
    assert denied == Decision(False, "Only an admin may reopen INC-4.")


def test_denied_reason_names_the_commander() -> None:
    """A refused resolve says who may: the commander, by name, or an admin."""
    decision = decide(default_policy(), "resolve", BOB, incident())
    assert decision == Decision(
        False, "Only the commander of INC-4 (alice) or an admin may resolve it."
    )


def test_denied_reason_names_every_allowed_role_holder() -> None:
    """A refused update lists the commander, deputy and comms lead with their names."""
    decision = decide(default_policy(), "update", CAROL, incident())
    assert decision.reason == (
        "Only the commander of INC-4 (alice), the deputy (bob), the comms lead (dan) or an admin "
        "may post an update to it."
    )


def test_denied_reason_after_a_handoff_names_the_new_commander() -> None:
    """The reason follows the current commander, not whoever declared."""
    inc = incident()
    inc.assign_role(ALICE, Role.COMMANDER, BOB, NOW)
    decision = decide(default_policy(), "severity", ALICE, inc)
    assert (
        decision.reason == "Only the commander of INC-4 (bob) or an admin may change its severity."
    )


def test_unassigned_roles_are_named_without_a_person() -> None:
    """A role nobody holds is still named as one who may, just without a name."""
    inc, _ = Incident.declare(7, "Slow search", Severity.P3, ALICE, NOW)
    decision = decide(default_policy(), "update", OUTSIDER, inc)
    assert decision.reason == (
        "Only the commander of INC-7 (alice), the deputy, the comms lead or an admin "
        "may post an update to it."
    )


def test_no_incident_for_a_role_checked_command_is_denied_with_a_reason() -> None:
    """Without an incident no role can be checked; the reason says how to name one."""
    decision = decide(default_policy(), "resolve", ALICE, None)
    assert decision.allowed is False
    assert decision.reason == (
        "Only the commander of the incident or an admin may resolve it. "
        "Run it in the incident's channel or name the incident (e.g. INC-12)."
    )


def test_open_commands_need_no_incident() -> None:
    """declare, list and help are allowed for anyone without an incident."""
    for command in ("declare", "list", "help", "note"):
        assert decide(default_policy(), command, OUTSIDER, None) == Decision(True, "anyone")


def test_a_policy_can_restrict_declare_to_admins() -> None:
    """declare = ["admin"] leaves only admins able to declare, with a plain reason."""
    restricted = policy('[permissions]\ndeclare = ["admin"]\n')
    decision = decide(restricted, "declare", ALICE, None)
    assert decision == Decision(False, "Only an admin may declare an incident.")


def test_a_policy_can_widen_a_command_to_another_role() -> None:
    """resolve = ["deputy"] lets the deputy resolve, and no longer the commander."""
    widened = policy('[permissions]\nresolve = ["deputy"]\n')
    assert decide(widened, "resolve", BOB, incident()) == Decision(True, "deputy")
    assert not decide(widened, "resolve", ALICE, incident()).allowed


def test_a_policy_can_open_a_command_to_anyone() -> None:
    """severity = ["anyone"] lets a bystander change the severity."""
    opened = policy('[permissions]\nseverity = ["anyone"]\n')
    assert decide(opened, "severity", OUTSIDER, incident()) == Decision(True, "anyone")


def test_holding_several_roles_reports_the_senior_one() -> None:
    """The allowing role is reported as the most senior the actor holds: commander first."""
    inc = incident()
    inc.roles[Role.COMMS] = ALICE
    assert decide(default_policy(), "update", ALICE, inc) == Decision(True, "commander")


def test_the_same_user_id_on_another_platform_holds_no_role() -> None:
    """Roles belong to platform:user_id, so a look-alike id elsewhere is an outsider."""
    impostor = Actor("discord", "U0ALICE", "alice")
    assert not decide(default_policy(), "resolve", impostor, incident()).allowed


def test_an_unknown_command_is_denied_with_a_pointer_to_help() -> None:
    """A subcommand tocsin does not know is refused, and the reason points at help."""
    decision = decide(default_policy(), "frobnicate", ALICE, incident())
    assert decision == Decision(
        False, '"frobnicate" is not a tocsin command; "help" lists the commands.'
    )
