"""Silences: Alertmanager-style matchers (=, !=, =~, !~), parsing a matcher string with clear
errors, group silences, and the active window [starts_at, ends_at)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.alerts import Matcher, MatchOp, is_silenced, make_silence, parse_matchers
from tocsin.domain.errors import ParseError

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LABELS = {"team": "payments", "severity": "critical", "service": "checkout"}


def test_the_documented_matcher_string_parses() -> None:
    """``team="payments",severity=~"crit.*"``: one equality and one regex matcher."""
    matchers = parse_matchers('team="payments",severity=~"crit.*"')
    assert [(m.name, m.op, m.value) for m in matchers] == [
        ("team", MatchOp.EQUAL, "payments"),
        ("severity", MatchOp.REGEX, "crit.*"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{team="payments"}', [("team", "=", "payments")]),
        (' team = "payments" , env!="dev", ', [("team", "=", "payments"), ("env", "!=", "dev")]),
        (
            "team=payments,env!~dev|staging",
            [("team", "=", "payments"), ("env", "!~", "dev|staging")],
        ),
        (r'msg="say \"hi\", a\\b"', [("msg", "=", 'say "hi", a\\b')]),
        ('team=""', [("team", "=", "")]),
    ],
)
def test_matcher_strings_accept_alertmanagers_forms(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    """Braces, spaces, a trailing comma, unquoted values and escapes inside quotes."""
    assert [(m.name, m.op.value, m.value) for m in parse_matchers(text)] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no matchers given"),
        ("team", 'expected a matcher such as team="payments" at "team"'),
        ('team=="x"', 'expected "," between matchers at "="x""'),
        ('team="a" env="b"', 'expected "," between matchers at "env="b""'),
        ('1team="x"', 'expected a matcher such as team="payments" at "1team="x""'),
        ('team=~"("', 'bad regex in team=~"(": missing ), unterminated subpattern'),
        ('team="unterminated', 'unclosed quote in team="unterminated'),
    ],
)
def test_a_bad_matcher_string_says_what_is_wrong(text: str, message: str) -> None:
    """Each mistake is a ParseError quoting where it went wrong, with the usage attached."""
    with pytest.raises(ParseError) as caught:
        parse_matchers(text)
    assert str(caught.value).startswith(message)
    assert "=~" in caught.value.usage


@pytest.mark.parametrize(
    ("matcher", "matches"),
    [
        ('team="payments"', True),
        ('team!="payments"', False),
        ('severity=~"crit.*"', True),
        ('severity=~"crit"', False),  # full match, not search
        ('severity!~"warn.*"', True),
        ('region=""', True),  # a missing label is the empty string
        ('region!=""', False),
        ('region=~".*"', True),
        ('region="eu"', False),
    ],
)
def test_matchers_work_like_alertmanagers(matcher: str, matches: bool) -> None:
    """Equality and full-match regex, negated forms, and missing labels counting as ""."""
    [parsed] = parse_matchers(matcher)
    assert parsed.matches(LABELS) is matches


def test_a_matcher_silence_covers_matching_labels_only_while_active() -> None:
    """Active from starts_at (included) to ends_at (excluded), and only for matching labels."""
    silence = make_silence(T0, T0 + timedelta(hours=1), matchers='team="payments"')
    assert silence.is_silenced(LABELS, T0)
    assert silence.is_silenced(LABELS, T0 + timedelta(minutes=59))
    assert not silence.is_silenced(LABELS, T0 + timedelta(hours=1))
    assert not silence.is_silenced(LABELS, T0 - timedelta(seconds=1))
    assert not silence.is_silenced({"team": "search"}, T0)


def test_a_group_silence_covers_that_group_whatever_its_labels() -> None:
    """A silence by group id covers that group only; labels do not matter."""
    silence = make_silence(T0, T0 + timedelta(hours=1), group_id=7)
    assert silence.is_silenced({}, T0, group_id=7)
    assert not silence.is_silenced(LABELS, T0, group_id=8)
    assert not silence.is_silenced(LABELS, T0)


def test_is_silenced_is_true_when_any_silence_applies() -> None:
    """Several silences: covered if any one of them is active and matches."""
    expired = make_silence(
        T0 - timedelta(hours=2), T0 - timedelta(hours=1), matchers="team=payments"
    )
    other = make_silence(T0, T0 + timedelta(hours=1), matchers='team="search"')
    assert not is_silenced([expired, other], LABELS, T0)
    now = make_silence(T0, T0 + timedelta(hours=1), matchers='severity=~"crit.*"')
    assert is_silenced([expired, other, now], LABELS, T0)
    assert not is_silenced([], LABELS, T0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ends": -1, "matchers": "team=x"}, "must end after it starts"),
        ({"matchers": ""}, "no matchers given"),
        ({}, "exactly one of"),
        ({"matchers": "team=x", "group_id": 3}, "exactly one of"),
        ({"matchers": 'team=~".*",env!="prod"'}, "would silence every alert"),
        ({"naive": True, "group_id": 1}, "need a time zone"),
    ],
)
def test_a_bad_silence_is_refused(kwargs: dict[str, object], message: str) -> None:
    """A silence must end after it starts, cover exactly one thing, use aware times, and not
    match every alert (at least one matcher must fail on an empty label set)."""
    starts = T0.replace(tzinfo=None) if kwargs.pop("naive", False) else T0
    ends = T0 + timedelta(hours=float(kwargs.pop("ends", 1)))  # type: ignore[arg-type]
    with pytest.raises(ParseError, match=message):
        make_silence(starts, ends, **kwargs)  # type: ignore[arg-type]


_VALUES = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), value=_VALUES,
       op=st.sampled_from(list(MatchOp)))  # fmt: skip
def test_a_matcher_printed_and_parsed_back_is_the_same(name: str, value: str, op: MatchOp) -> None:
    """str(matcher) is the quoted matcher syntax, so any value (quotes, backslashes, newlines,
    commas) survives a round trip through parse_matchers."""
    if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
        value = "x"  # any literal text is not a valid regex; the quoting is what is tested
    matcher = Matcher.of(name, op, value)
    assert parse_matchers(str(matcher)) == (matcher,)
