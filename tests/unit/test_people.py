"""People and notification rules: the policy file's [[person]] section (ids, time zones,
contacts, rule steps), which rule a page follows, which steps are due, and that an
acknowledgement stops the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_policy import parse, problems  # the policy tests' helpers

from tocsin.domain.model import Severity
from tocsin.domain.notify import (
    MAX_STEPS,
    Person,
    RuleStep,
    due_steps,
    find_person,
    next_due,
    parse_step,
    rule_for,
)

ALICE = """
[[person]]
id = "slack:U0ALICE"
also = ["discord:700000000000000005"]
name = "Alice Chen"
timezone = "Europe/Berlin"
contacts = { phone = "ntfy://ntfy.example.com/alice-pager", mail = "mailto:alice@example.com" }
default_rule = ["slack"]
urgent_rule = ["slack", "phone after 5m", "mail after 10m"]
"""
BOB = '[[person]]\nid = "discord:700000000000000009"\n'
M = timedelta(minutes=1)


def alice() -> Person:
    return parse(ALICE).people[0]


def test_the_documented_person_parses_into_their_fields() -> None:
    """Every key of the example lands in the Person, steps with their delays."""
    person = alice()
    assert (person.id, person.also, person.name, person.timezone) == (
        "slack:U0ALICE", ("discord:700000000000000005",), "Alice Chen", "Europe/Berlin",
    )  # fmt: skip
    assert dict(person.contacts) == {
        "phone": "ntfy://ntfy.example.com/alice-pager",
        "mail": "mailto:alice@example.com",
    }
    assert person.default_rule == (RuleStep("slack"),)
    assert person.urgent_rule == (
        RuleStep("slack"), RuleStep("phone", 5 * M), RuleStep("mail", 10 * M),
    )  # fmt: skip
    assert [str(step) for step in person.urgent_rule] == [
        "slack",
        "phone after 5m",
        "mail after 10m",
    ]


def test_a_person_with_only_an_id_gets_a_dm_on_their_platform() -> None:
    """No rules given: both rules are a direct message on the id's platform; the name is the id
    and the time zone UTC."""
    (bob,) = parse(BOB).people
    assert bob.default_rule == bob.urgent_rule == (RuleStep("discord"),)
    assert (bob.name, bob.timezone, bob.also, dict(bob.contacts)) == (bob.id, "UTC", (), {})


def test_the_default_dm_is_on_the_first_id_with_direct_messages() -> None:
    """A person known first on the web gets their DMs on the platform of their next id."""
    (carol,) = parse('[[person]]\nid = "web:carol"\nalso = ["slack:U0CAROL"]').people
    assert carol.default_rule == (RuleStep("slack"),)


def test_an_urgent_rule_defaults_to_the_default_rule() -> None:
    """Only default_rule given: urgent pages follow it too."""
    (person,) = parse(
        BOB + 'contacts = { sms = "twilio://a:b@1555" }\ndefault_rule = ["sms"]'
    ).people
    assert person.urgent_rule == person.default_rule == (RuleStep("sms"),)


def test_people_are_found_by_any_of_their_ids() -> None:
    """find_person looks at id and also; an unknown id finds nobody."""
    people = parse(ALICE + BOB).people
    assert find_person(people, "discord:700000000000000005") is people[0]
    assert find_person(people, "discord:700000000000000009") is people[1]
    assert find_person(people, "slack:U0NOBODY") is None


def test_the_contacts_do_not_show_in_repr_but_masked_contacts_do() -> None:
    """A person's repr leaves the contact URLs out (they carry tokens); masked_contacts masks."""
    (person,) = parse(BOB + 'contacts = { tg = "tgram://123456:SECRETTOKEN/42" }').people
    assert "SECRETTOKEN" not in repr(person)
    assert dict(person.masked_contacts()) == {"tg": "tgram://****/42"}


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ("slack", RuleStep("slack")),
        ("phone after 5m", RuleStep("phone", 5 * M)),
        ("mail after 2h", RuleStep("mail", 120 * M)),
        ("  sms   after 0m ", RuleStep("sms")),
        ("phone after 5", None),
        ("phone after 5s", None),
        ("phone in 5m", None),
        ("Phone", None),
        ("", None),
    ],
)
def test_rule_steps_are_name_and_an_optional_delay(text: str, step: RuleStep | None) -> None:
    """Steps read NAME or "NAME after Nm" / "NAME after Nh"; anything else is not a step."""
    assert parse_step(text) == step


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[[person]]\nname = "x"', 'person[0].id: every person needs an id such as "slack:U0ALICE"'),  # noqa: E501
        ('[[person]]\nid = "alice"', 'person[0].id: "alice" is not of the form platform:user_id (e.g. "slack:U0ALICE")'),  # noqa: E501
        ('[[person]]\nid = "teams:U1"', 'person[0].id: unknown platform in "teams:U1" (expected slack, discord, web, api or cli)'),  # noqa: E501
        (BOB + 'also = ["discord:700000000000000009"]', 'person[0].also: "discord:700000000000000009" is already another person (or listed twice)'),  # noqa: E501
        (BOB + BOB, 'person[1].id: "discord:700000000000000009" is already another person (or listed twice)'),  # noqa: E501
        (BOB + 'timezone = "Europe/Berln"', 'person[0].timezone: unknown timezone "Europe/Berln" (use an IANA name such as "Europe/Berlin")'),  # noqa: E501
        (BOB + "nmae = 1", 'person[0].nmae: unknown key (did you mean "name"?)'),
        (BOB + 'contacts = { Phone = "ntfy://h/t" }', "person[0].contacts.Phone: contact names are lower-case letters, digits, - and _"),  # noqa: E501
        (BOB + 'contacts = { slack = "ntfy://h/t" }', 'person[0].contacts.slack: "slack" is the slack direct message; pick another name'),  # noqa: E501
        (BOB + 'contacts = { phone = "555-1234" }', 'person[0].contacts.phone: expected "mailto:name@example.com" or a URL such as "ntfy://host/topic"'),  # noqa: E501
        (BOB + 'contacts = { mail = "mailto:alice" }', 'person[0].contacts.mail: expected "mailto:name@example.com" or a URL such as "ntfy://host/topic"'),  # noqa: E501
        (BOB + "contacts = { phone = 5 }", 'person[0].contacts.phone: expected "mailto:name@example.com" or a URL such as "ntfy://host/topic"'),  # noqa: E501
        (BOB + 'default_rule = ["pager"]', 'person[0].default_rule: unknown contact "pager" in "pager" (known: discord)'),  # noqa: E501
        (BOB + 'default_rule = ["slack"]', 'person[0].default_rule: unknown contact "slack" in "slack" (known: discord)'),  # noqa: E501
        (BOB + 'urgent_rule = ["discord after 5 minutes"]', 'person[0].urgent_rule: bad step "discord after 5 minutes" (expected NAME or "NAME after 5m" / "after 1h")'),  # noqa: E501
        (BOB + 'urgent_rule = ["discord after 10m", "discord after 5m"]', 'person[0].urgent_rule: "discord after 5m" comes before the step listed ahead of it'),  # noqa: E501
        (BOB + "urgent_rule = []", "person[0].urgent_rule: a rule needs at least one step"),
        ('[[person]]\nid = "web:alice"', 'person[0].default_rule: no Slack or Discord id to send a direct message to, so say how to reach them (e.g. default_rule = ["mail"])'),  # noqa: E501
        (BOB + 'urgent_rule = "discord"', 'person[0].urgent_rule: expected a list of text such as ["a", "b"], got "discord"'),  # noqa: E501
        (BOB + f"urgent_rule = {['discord'] * (MAX_STEPS + 1)}", f"person[0].urgent_rule: at most {MAX_STEPS} steps, got {MAX_STEPS + 1}"),  # noqa: E501
    ],
)  # fmt: skip
def test_each_bad_person_value_is_one_problem(text: str, problem: str) -> None:
    """The bad key is reported on its own line with the policy's key path and what is wanted."""
    assert problems(text) == [f"policy.toml: {problem}"]


def test_urgent_pages_follow_the_urgent_rule() -> None:
    """P1 and P2 are urgent; P3 and P4 follow the default rule."""
    person = alice()
    assert rule_for(person, Severity.P1) == rule_for(person, Severity.P2) == person.urgent_rule
    assert rule_for(person, Severity.P3) == rule_for(person, Severity.P4) == person.default_rule
    assert person.urgent_rule != person.default_rule


@pytest.mark.parametrize(
    ("elapsed", "acked", "due", "following"),
    [
        (0, None, ["slack"], 5),
        (4, None, ["slack"], 5),
        (5, None, ["slack", "phone"], 10),
        (30, None, ["slack", "phone", "mail"], None),
        (30, 3, ["slack"], None),  # acknowledged at 3 min: phone and mail are never sent
        (30, 5, ["slack"], None),  # at exactly 5 min the acknowledgement wins
        (30, 7, ["slack", "phone"], None),
        (4, 7, ["slack"], 5),  # the acknowledgement has not happened yet at 4 min
    ],
)
def test_steps_fall_due_in_order_until_acknowledged(
    elapsed: int, acked: int | None, due: list[str], following: int | None
) -> None:
    """due_steps lists the steps whose delay has passed (and that came before any
    acknowledgement); next_due says when the next one is, None once nothing is left."""
    rule = alice().urgent_rule
    ack = None if acked is None else acked * M
    assert [s.contact for s in due_steps(rule, elapsed * M, ack)] == due
    assert next_due(rule, elapsed * M, ack) == (None if following is None else following * M)


@settings(max_examples=200, deadline=None)
@given(
    delays=st.lists(st.integers(0, 120), min_size=1, max_size=MAX_STEPS).map(sorted),
    elapsed=st.integers(0, 200),
    acked=st.none() | st.integers(0, 200),
)
def test_nothing_after_an_acknowledgement_is_ever_due(
    delays: list[int], elapsed: int, acked: int | None
) -> None:
    """No step due at or after the acknowledgement is sent, due steps are a prefix of the rule,
    and next_due never points at or before now."""
    rule = tuple(RuleStep(f"c{i}", d * M) for i, d in enumerate(delays))
    ack = None if acked is None else acked * M
    due = due_steps(rule, elapsed * M, ack)
    assert due == rule[: len(due)]
    assert all(ack is None or step.after < ack for step in due)
    following = next_due(rule, elapsed * M, ack)
    if following is not None:
        assert following > elapsed * M
        assert ack is None or following < ack
