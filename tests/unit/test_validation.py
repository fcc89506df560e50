"""The one declare validator every surface calls: cleaned values, or errors by field."""

from __future__ import annotations

import pytest

from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Command, Mention
from tocsin.domain.model import Severity
from tocsin.domain.validation import (
    COMMANDER_INVALID,
    NOT_TEXT,
    SEVERITY_UNKNOWN,
    TITLE_MISSING,
    Declaration,
    Invalid,
    check_declare,
    too_long,
)

GOOD: list[tuple[dict[str, object], Declaration]] = [
    ({"title": "  Checkout   is\tdown "}, Declaration("Checkout is down")),
    ({"title": "x", "severity": "P1"}, Declaration("x", Severity.P1)),
    ({"title": "x", "severity": Severity.P4}, Declaration("x", Severity.P4)),
    ({"title": "x", "severity": None}, Declaration("x", None)),
    ({"title": "x", "severity": "  "}, Declaration("x", None)),
    ({"title": "x", "description": "  EU only \n"}, Declaration("x", description="EU only")),
    ({"title": "x", "commander": "@bob"}, Declaration("x", commander=Mention("bob"))),
    (
        {"title": "x", "commander": "42", "commander_name": "Bob"},
        Declaration("x", commander=Mention("42", "Bob")),
    ),
    ({"title": "x", "commander": " "}, Declaration("x")),
    ({"title": "t" * MAX_TITLE}, Declaration("t" * MAX_TITLE)),
]

BAD: list[tuple[dict[str, object], dict[str, str]]] = [
    ({"title": ""}, {"title": TITLE_MISSING}),
    ({"title": None}, {"title": TITLE_MISSING}),
    ({"title": " \n "}, {"title": TITLE_MISSING}),
    ({"title": 12}, {"title": NOT_TEXT}),
    ({"title": "t" * (MAX_TITLE + 1)}, {"title": too_long("title", MAX_TITLE)}),
    ({"title": "x", "severity": "P9"}, {"severity": SEVERITY_UNKNOWN}),
    ({"title": "x", "severity": "p1"}, {"severity": SEVERITY_UNKNOWN}),
    ({"title": "x", "severity": "critical"}, {"severity": SEVERITY_UNKNOWN}),
    (
        {"title": "x", "description": "d" * (MAX_TEXT + 1)},
        {"description": too_long("description", MAX_TEXT)},
    ),
    ({"title": "x", "commander": "bob smith"}, {"commander": COMMANDER_INVALID}),
    ({"title": "x", "commander": "b" * 201}, {"commander": COMMANDER_INVALID}),
    (
        {"title": "", "severity": "P0", "commander": "a b"},
        {"title": TITLE_MISSING, "severity": SEVERITY_UNKNOWN, "commander": COMMANDER_INVALID},
    ),
]


@pytest.mark.parametrize(("fields", "expected"), GOOD)
def test_good_values_are_cleaned(fields: dict[str, object], expected: Declaration) -> None:
    """Whitespace collapses (title) or is trimmed, a missing severity is None (the policy's
    default applies), a leading @ is dropped from the commander."""
    assert check_declare(**fields) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("fields", "expected"), BAD)
def test_bad_values_are_errors_by_field(
    fields: dict[str, object], expected: dict[str, str]
) -> None:
    """Each wrong field gets its own sentence, in field order; an unknown severity is an error,
    never dropped."""
    found = check_declare(**fields)  # type: ignore[arg-type]
    assert isinstance(found, Invalid)
    assert dict(found.errors) == expected
    assert list(found.errors) == list(expected)
    assert found.message == " ".join(expected.values())


def test_a_declaration_is_the_declare_command() -> None:
    """The cleaned values become the command the declare service runs."""
    found = check_declare(title="DB down", severity="P2", commander="@bob")
    assert isinstance(found, Declaration)
    assert found.command() == Command(
        "declare", text="DB down", severity=Severity.P2, person=Mention("bob")
    )
