"""Stored edits of a ``[[person]]`` (``domain/notify/edits.py``): merged over the policy file's
entry and checked by the policy file's own people parser, so a bad edit is refused naming the
field, and an edit the policy file no longer fits is set aside rather than breaking paging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tocsin.domain.errors import PolicyError
from tocsin.domain.notify import RuleStep
from tocsin.domain.person_edits import PersonEdit, apply_edit, current_people
from tocsin.domain.policy_file import parse_policy

ALICE = "slack:U0ALICE"
[BASE] = parse_policy(
    {
        "person": [
            {
                "id": ALICE,
                "contacts": {"phone": "ntfy://ntfy.example.com/alice"},
                "urgent_rule": ["slack", "phone after 5m"],
            }
        ]
    }
).people


def test_an_edit_adds_a_contact_and_a_rule_step() -> None:
    """A mail contact set and named in the urgent rule: the person has both; the policy
    file's contact stays."""
    edit = PersonEdit(ALICE).set_contact("mail", "mailto:alice@example.test")
    edit = edit.set_rule("urgent", ["slack", "mail after 10m"])
    person = apply_edit(BASE, edit)
    assert dict(person.contacts) == {
        "phone": "ntfy://ntfy.example.com/alice",
        "mail": "mailto:alice@example.test",
    }
    assert person.urgent_rule == (RuleStep("slack"), RuleStep("mail", timedelta(minutes=10)))
    assert person.default_rule == BASE.default_rule


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (PersonEdit(ALICE).set_contact("mail", "alice at example"), "person.contacts.mail"),
        (PersonEdit(ALICE).set_contact("Bad Name", "mailto:a@b.test"), "person.contacts.Bad Name"),
        (PersonEdit(ALICE).set_rule("urgent", ["pager"]), 'unknown contact "pager"'),
        (PersonEdit(ALICE).set_contact("phone", None), 'unknown contact "phone"'),
        (PersonEdit(ALICE).set_rule("default", ["slack after 5m", "slack"]), "comes before"),
    ],
)
def test_a_bad_edit_is_refused_naming_the_field(edit: PersonEdit, problem: str) -> None:
    """A malformed URL or contact name, a rule naming an unknown contact, removing a contact a
    rule still uses, steps out of order: PolicyError with the field, as in the policy file."""
    with pytest.raises(PolicyError) as caught:
        apply_edit(BASE, edit)
    assert problem in str(caught.value)
    assert "edit: person[0]" not in str(caught.value)


def test_a_bad_rule_kind_is_refused() -> None:
    """Only the default and urgent rules exist."""
    with pytest.raises(PolicyError, match="default or urgent"):
        PersonEdit(ALICE).set_rule("weekend", ["slack"])


def test_stored_edits_win_and_a_stale_one_is_set_aside() -> None:
    """The edit replaces the file's rule; an edit whose rule names a contact the file dropped
    since (and the edit never set) leaves the person as the file says."""
    good = PersonEdit(ALICE).set_rule("urgent", ["phone"])
    [person] = current_people([BASE], {ALICE: good})
    assert person.urgent_rule == (RuleStep("phone"),)
    stale = PersonEdit(ALICE).set_rule("urgent", ["pager"])
    assert current_people([BASE], {ALICE: stale}) == (BASE,)


def test_an_edit_survives_its_document_form() -> None:
    """What the store keeps reads back as the same edit (removed contacts included)."""
    edit = PersonEdit(ALICE).set_contact("phone", None).set_contact("mail", "mailto:a@b.test")
    edit = edit.set_rule("default", ["mail"])
    assert PersonEdit.from_dict(ALICE, edit.to_dict()) == edit
