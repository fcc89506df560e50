"""The public post-mortem summary's rules (domain/public_summary.py), what the public view of
an incident carries of it, and the permissions behind ``summary`` and maintenance from chat."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.domain import public_summary as rules
from tocsin.domain.errors import InvalidTransition, ParseError, PolicyError
from tocsin.domain.model import Actor, EntryKind, Incident, Severity
from tocsin.domain.permissions import MAINTAIN, decide
from tocsin.domain.policy import default_policy
from tocsin.domain.policy_file import parse_policy
from tocsin.domain.status_view import incident_view

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")
BOB = Actor("slack", "U0BOB", "bob")


def incident() -> Incident:
    """INC-4, P1, alice commands."""
    inc, _ = Incident.declare(4, "Checkout is down", Severity.P1, ALICE, NOW)
    return inc


def test_publish_change_and_remove_each_leave_a_timeline_entry() -> None:
    """The first text is "published", a new one "changed", removing it "removed"; each entry
    records the text and the one before, and the incident holds who wrote it and when."""
    inc = incident()
    [first] = rules.publish(inc, ALICE, "  A bad cache config.\nWe now canary.  ", NOW)
    assert (first.kind, first.text) == (
        EntryKind.PUBLIC_SUMMARY,
        "Public summary published: A bad cache config.\nWe now canary.",
    )
    assert inc.public_summary is not None
    assert inc.public_summary.text == "A bad cache config.\nWe now canary."
    assert (inc.public_summary.published_at, inc.public_summary.published_by) == (NOW, ALICE)
    later = NOW + timedelta(hours=1)
    [second] = rules.publish(inc, BOB, "A bad cache config.", later)
    assert second.text == "Public summary changed: A bad cache config."
    assert second.data == {
        "summary": "A bad cache config.",
        "previous": "A bad cache config.\nWe now canary.",
    }
    assert inc.public_summary.published_by == BOB
    [third] = rules.remove(inc, ALICE, later)
    assert third.text == "Public summary removed"
    assert inc.public_summary is None


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("   ", ParseError, "text: write the public summary"),
        ("x" * 2001, ParseError, "text: the public summary is 2001 characters long"),
    ],
)
def test_publish_refuses_empty_or_too_long_text(
    text: str, error: type[Exception], fragment: str
) -> None:
    """A blank or over-2,000-character summary is refused naming the field; nothing is set."""
    inc = incident()
    with pytest.raises(error, match=fragment):
        rules.publish(inc, ALICE, text, NOW)
    assert inc.public_summary is None


def test_the_same_text_again_or_removing_none_is_refused() -> None:
    """Publishing the text it already has, or removing a summary there is none of, is an
    InvalidTransition (the API's 409) rather than a silent no-op timeline entry."""
    inc = incident()
    with pytest.raises(InvalidTransition, match="no public summary to remove"):
        rules.remove(inc, ALICE, NOW)
    rules.publish(inc, ALICE, "Fixed.", NOW)
    with pytest.raises(InvalidTransition, match="already says that"):
        rules.publish(inc, ALICE, "Fixed.", NOW)


def test_the_public_view_shows_it_only_once_resolved() -> None:
    """An open incident's drafted summary stays off the page; once resolved the view carries
    it, and its time counts as the incident's last public change (the feed's ``updated``)."""
    inc = incident()
    written = NOW + timedelta(days=2)
    rules.publish(inc, ALICE, "Fixed for good.", written)
    assert incident_view(inc, [], "abc").summary == ""
    inc.resolve(ALICE, "", NOW + timedelta(hours=1))
    view = incident_view(inc, [], "abc")
    assert (view.summary, view.summary_at, view.updated_at) == ("Fixed for good.", written, written)
    inc.reopen(ALICE, NOW + timedelta(days=3))
    assert incident_view(inc, [], "abc").summary == ""


def test_summary_is_the_commanders_and_maintain_the_admins_by_default() -> None:
    """By default only the commander (or an admin) may change the summary; only admins may
    schedule, move or cancel maintenance, while anyone may list it."""
    policy = default_policy()
    inc = incident()
    assert decide(policy, "summary", ALICE, inc).allowed
    denied = decide(policy, "summary", BOB, inc)
    assert not denied.allowed
    assert denied.reason == (
        "Only the commander of INC-4 (alice) or an admin may change its public summary."
    )
    assert decide(policy, "maintenance", BOB, None).allowed
    refused = decide(policy, MAINTAIN, BOB, None)
    assert refused.reason == "Only an admin may schedule, move or cancel maintenance."
    admins = replace(policy, admins={"slack": frozenset({"U0BOB"})})
    assert decide(admins, MAINTAIN, BOB, None).allowed


def test_the_policy_file_overrides_both() -> None:
    """``[permissions]`` may open ``maintain`` to anyone and give ``summary`` to the comms
    lead; ``maintain`` is about no incident, so an incident role there is an error."""
    policy = parse_policy(
        tomllib.loads('[permissions]\nmaintain = ["anyone"]\nsummary = ["comms"]\n'), "p.toml"
    )
    assert decide(policy, MAINTAIN, BOB, None).allowed
    assert not decide(policy, "summary", ALICE, incident()).allowed
    with pytest.raises(PolicyError, match="maintain is not about one incident"):
        parse_policy(tomllib.loads('[permissions]\nmaintain = ["commander"]\n'), "p.toml")
