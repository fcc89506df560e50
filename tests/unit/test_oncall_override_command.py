"""``oncall override @person <from> <to> [schedule]``: how the command language reads it."""

from __future__ import annotations

import pytest

from tocsin.domain.commands import SUBCOMMANDS, Command, Mention, help_text, parse
from tocsin.domain.errors import ParseError

C = Command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "oncall override <@U0CAROL|carol> now +8h",
            C("oncall", person=Mention("U0CAROL", "carol"), starts="now", ends="+8h"),
        ),
        (
            "oncall override <@700000000000000005> 2026-12-01T09:00 2026-12-02T09:00 primary",
            C(
                "oncall",
                person=Mention("700000000000000005"),
                starts="2026-12-01T09:00",
                ends="2026-12-02T09:00",
                text="primary",
            ),
        ),
        (
            'ONCALL Override @carol "2026-12-01 09:00" "2026-12-01 17:00"',
            C(
                "oncall",
                person=Mention("carol"),
                starts="2026-12-01 09:00",
                ends="2026-12-01 17:00",
            ),
        ),
        (
            "oncall override @slack:U0CAROL now +2d secondary",
            C(
                "oncall",
                person=Mention("slack:U0CAROL"),
                starts="now",
                ends="+2d",
                text="secondary",
            ),
        ),
        (
            "oncall override now +8h @carol",
            C("oncall", person=Mention("carol"), starts="now", ends="+8h"),
        ),
    ],
)
def test_override_form_is_parsed(text: str, expected: Command) -> None:
    """The person (Slack, Discord, plain or platform-qualified mention, anywhere after
    ``override``), both times as typed (quotes group a date and a time) and the optional
    schedule land in ``person``, ``starts``, ``ends`` and ``text``; no incident is named."""
    assert parse(text) == expected


def test_plain_oncall_is_unchanged() -> None:
    """``oncall`` alone still asks who is on call: no person, no times."""
    assert parse("oncall") == C("oncall")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("oncall now", 'takes nothing after it, or "override"'),
        ("oncall override now +8h", "needs the person as an @mention"),
        ("oncall override @carol now", "needs a start and an end"),
        ("oncall override @carol now +8h primary extra", "needs a start and an end"),
        ("oncall override @carol @dave now +8h", "one person, not two"),
        ("oncall override @here now +8h", "needs the person as an @mention"),
    ],
)
def test_bad_override_says_what_is_wrong(text: str, fragment: str) -> None:
    """A malformed override is a ParseError naming the problem, with oncall's usage line."""
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert fragment in caught.value.message
    assert caught.value.usage == SUBCOMMANDS["oncall"].usage


def test_help_shows_the_override_form_with_an_example() -> None:
    """``help oncall`` gives the override usage and an example of times the service accepts."""
    text = help_text("oncall", prefix="/incident ")
    assert "/incident oncall [override @person <from> <to> [schedule]]" in text
    assert "Example: /incident oncall override @alice now +8h primary" in text
