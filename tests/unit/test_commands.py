"""The command language: every subcommand, every syntax, every error, and fuzzing."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.domain.commands import (
    MAX_INPUT,
    MAX_TEXT,
    MAX_TITLE,
    SUBCOMMANDS,
    Command,
    Mention,
    help_text,
    parse,
    parse_incident_ref,
)
from tocsin.domain.errors import ParseError
from tocsin.domain.model import Role, Severity, Status

P1, P2, P3, P4 = Severity.P1, Severity.P2, Severity.P3, Severity.P4
ALICE = Mention("U123", "alice")
USAGES = {sub.usage for sub in SUBCOMMANDS.values()}
DOCUMENTED_SUBCOMMANDS = [
    *("declare", "list", "show", "update", "note", "severity", "status", "commander", "role"),
    *("join", "ack", "action", "resolve", "reopen", "postmortem", "summary", "visibility"),
    *("components", "oncall"),
    *("maintenance", "alerts", "help"),
]

C, M, DOWN = Command, Mention, "Checkout is down"  # short names keep the table readable
VALID = [
    # declare
    (
        'declare "Checkout is down" P1 <@U123|alice>',
        C("declare", text=DOWN, severity=P1, person=ALICE),
    ),
    ("declare Checkout is down", C("declare", text=DOWN)),
    (
        "declare P2 <@U123|alice> Checkout is down",
        C("declare", text=DOWN, severity=P2, person=ALICE),
    ),
    (
        "declare <@U123|alice> Checkout is down sev:3",
        C("declare", text=DOWN, severity=P3, person=ALICE),
    ),
    ("DECLARE checkout   is\n down p4", C("declare", text="checkout is down", severity=P4)),
    (
        "declare Outage in the P1 region P2",
        C("declare", text="Outage in the P1 region", severity=P2),
    ),
    ('declare "P1 dashboards slow" P3', C("declare", text="P1 dashboards slow", severity=P3)),
    ("declare can't log in", C("declare", text="can't log in")),
    ("declare 'can't log in' P1", C("declare", text="can't log in", severity=P1)),
    ("declare “Checkout is down” P1", C("declare", text=DOWN, severity=P1)),
    ("declare ‘Checkout is down’ P1", C("declare", text=DOWN, severity=P1)),
    ('declare "unclosed quote P1', C("declare", text='"unclosed quote', severity=P1)),
    ("declare Checkout is down @bob", C("declare", text=DOWN, person=M("bob"))),
    ("declare INC-3 again", C("declare", text="INC-3 again")),
    # list / show
    ("list", C("list")),
    ("list open", C("list", scope="open")),
    ("LIST All", C("list", scope="all")),
    ("show", C("show")),
    ("show INC-3", C("show", incident=3)),
    ("show inc-3", C("show", incident=3)),
    ("show 3", C("show", incident=3)),
    ("show #3", C("show", incident=3)),
    # update / note
    ("update INC-12 db is back", C("update", incident=12, text="db is back")),
    ("update db is back", C("update", text="db is back")),
    ("update INC-12 db  is back\nline two", C("update", incident=12, text="db  is back\nline two")),
    ('update "db is back"', C("update", text="db is back")),
    ("update db is back, see INC-7", C("update", text="db is back, see INC-7")),
    ("update 3 servers down", C("update", text="3 servers down")),
    ("note INC-2 rolled back deploy 4711", C("note", incident=2, text="rolled back deploy 4711")),
    ("note ping @bob about it", C("note", text="ping @bob about it")),
    # severity
    ("severity P2", C("severity", severity=P2)),
    ("severity INC-3 P2", C("severity", incident=3, severity=P2)),
    ("severity p2 INC-3", C("severity", incident=3, severity=P2)),
    ("sev 1", C("severity", severity=P1)),
    ("sev INC-3 severity=P4", C("severity", incident=3, severity=P4)),
    # status
    ("status identified", C("status", status=Status.IDENTIFIED)),
    ("status INC-5 Monitoring", C("status", incident=5, status=Status.MONITORING)),
    ("status mitigated", C("status", status=Status.MONITORING)),
    ("status resolved INC-5", C("status", incident=5, status=Status.RESOLVED)),
    ("status investigating", C("status", status=Status.INVESTIGATING)),
    # commander / role
    ("commander <@U123|alice>", C("commander", role=Role.COMMANDER, person=ALICE)),
    ("commander INC-4 <@U9>", C("commander", incident=4, role=Role.COMMANDER, person=M("U9"))),
    ("lead @carol", C("commander", role=Role.COMMANDER, person=M("carol"))),
    ("ic <@123>", C("commander", role=Role.COMMANDER, person=M("123"))),
    ("role deputy <@!123>", C("role", role=Role.DEPUTY, person=M("123"))),
    ("role INC-3 Scribe @dan", C("role", incident=3, role=Role.SCRIBE, person=M("dan"))),
    ("role @dan comms", C("role", role=Role.COMMS, person=M("dan"))),
    ("role commander @dan", C("role", role=Role.COMMANDER, person=M("dan"))),
    # join / ack
    ("join", C("join")),
    ("join INC-8", C("join", incident=8)),
    ("ack", C("ack")),
    ("acknowledge INC-8", C("ack", incident=8)),
    # action
    ("action rotate the keys", C("action", text="rotate the keys")),
    (
        "action INC-3 rotate the keys @bob",
        C("action", incident=3, text="rotate the keys", person=M("bob")),
    ),
    (
        "action tell @bob about it <@U123|alice>",
        C("action", text="tell @bob about it", person=ALICE),
    ),
    ("action @bob rotate the keys", C("action", text="@bob rotate the keys")),
    ('todo "rotate the keys" @bob', C("action", text="rotate the keys", person=M("bob"))),
    # resolve / reopen / postmortem
    ("resolve", C("resolve")),
    ("resolve INC-4 fixed the cache", C("resolve", incident=4, text="fixed the cache")),
    ("resolve fixed the cache", C("resolve", text="fixed the cache")),
    ("reopen INC-4", C("reopen", incident=4)),
    ("postmortem", C("postmortem")),
    ("pm INC-4", C("postmortem", incident=4)),
    ("post-mortem", C("postmortem")),
    # visibility and components
    ("visibility public", C("visibility", verb="public")),
    ("visibility INC-4 PRIVATE", C("visibility", incident=4, verb="private")),
    ("visibility policy inc-4", C("visibility", incident=4, verb="policy")),
    ('components INC-4 API "Web app"', C("components", incident=4, components=("API", "Web app"))),
    ("components api,web  API", C("components", components=("api", "web", "API"))),
    ("components INC-4 none", C("components", incident=4)),
    ("components NONE", C("components")),
    # oncall
    ("oncall", C("oncall")),
    ("ONCALL", C("oncall")),
    # help
    ("", C("help")),
    ("   \n ", C("help")),
    ("help", C("help")),
    ("help declare", C("help", topic="declare")),
    ("help sev", C("help", topic="severity")),
    ("?", C("help")),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t or "<empty>" for t, _ in VALID])
def test_parses_every_subcommand_and_syntax(text: str, expected: Command) -> None:
    """Each documented spelling parses into exactly the expected Command."""
    assert parse(text) == expected


SEVERITY_SPELLINGS = [
    ("P1", P1),
    ("p2", P2),
    ("sev3", P3),
    ("SEV4", P4),
    ("sev:P1", P1),
    ("sev:2", P2),
    ("sev-3", P3),
    ("severity=P4", P4),
    ("severity:P1", P1),
    ("Severity:p2", P2),
]


@pytest.mark.parametrize(("word", "level"), SEVERITY_SPELLINGS)
def test_severity_spellings_work_in_declare_and_severity(word: str, level: Severity) -> None:
    """Every severity spelling means the same level for declare and for severity."""
    assert parse(f"declare Checkout is down {word}").severity is level
    assert parse(f"declare {word} Checkout is down").severity is level
    assert parse(f"severity INC-1 {word}") == Command("severity", incident=1, severity=level)


MENTIONS = [
    ("<@U123|alice>", Mention("U123", "alice")),
    ("<@U123>", Mention("U123")),
    ("<@W0ABC|Bob Smith>", Mention("W0ABC", "Bob Smith")),
    ("<@700000000000000005>", Mention("700000000000000005")),
    ("<@!700000000000000005>", Mention("700000000000000005")),
    ("@alice", Mention("alice")),
    ("@alice.smith", Mention("alice.smith")),
]


@pytest.mark.parametrize(("word", "mention"), MENTIONS)
def test_mention_forms_of_every_platform(word: str, mention: Mention) -> None:
    """Slack, Discord and plain mentions give the platform id and any display name."""
    assert parse(f"commander {word}").person == mention
    assert parse(f"declare Checkout is down {word}").person == mention
    assert parse(f"action restart it {word}").person == mention


@pytest.mark.parametrize("word", ["@here", "@channel", "@everyone", "<@&123>", "bob"])
def test_group_mentions_and_plain_words_are_not_people(word: str) -> None:
    """Broadcast mentions, role mentions and bare names cannot become a commander."""
    with pytest.raises(ParseError) as caught:
        parse(f"commander {word}")
    assert "@mention" in caught.value.message


ERRORS = [
    ("delcare Checkout is down", 'did you mean "declare"', "declare"),
    ("stauts identified", 'did you mean "status"', "status"),
    ("frobnicate", '"help"', "help"),
    ("declare", "declare needs a title", "declare"),
    ("declare P1 @alice", "declare needs a title", "declare"),
    ("declare Checkout P1 P2", "one severity, not two", "declare"),
    ("declare @a Checkout @b", "one commander", "declare"),
    ("update", "update needs the text", "update"),
    ("update INC-3", "update needs the text", "update"),
    ("note", "note needs the text", "note"),
    ("note INC-4   ", "note needs the text", "note"),
    ("action @bob", "action needs a description", "action"),
    ("action INC-2", "action needs a description", "action"),
    ("severity", "severity needs a level", "severity"),
    ("severity INC-3", "severity needs a level", "severity"),
    ("severity P5", '"P5" is not a severity', "severity"),
    ("severity P1 P2", "takes one value", "severity"),
    ("severity P1 @bob", "does not take a person", "severity"),
    ("severity INC-1 INC-2 P1", "one incident, not two", "severity"),
    ("status", "status needs a state", "status"),
    ("status fixed", '"fixed" is not a status', "status"),
    ("commander", "commander needs the new commander", "commander"),
    ("commander @a @b", "one person, not two", "commander"),
    ("role", "role needs a role", "role"),
    ("role @bob", "role needs a role", "role"),
    ("role boss @bob", '"boss" is not a role', "role"),
    ("role deputy", "role needs the person who takes the deputy role", "role"),
    ("list closed", 'not "closed"', "list"),
    ("list open all", 'not "open all"', "list"),
    ("show INC-1 INC-2", "only an incident reference", "show"),
    ("show everything", "only an incident reference", "show"),
    ("join INC-0", "There is no INC-0", "join"),
    ("note INC-0 x", "There is no INC-0", "note"),
    ("note inc-99999999999999999999 x", "There is no inc-99999999999999999999", "note"),
    ("severity INC-2147483648 P1", "run from 1 to 2147483647", "severity"),
    ("show #99999999999999999999", "There is no #99999999999999999999", "show"),
    ("update INC-" + "9" * 5000 + " x", "There is no INC-999", "update"),
    ("oncall now", "takes nothing after it", "oncall"),
    ("visibility", "visibility needs public, private or policy", "visibility"),
    ("visibility INC-3", "visibility needs public, private or policy", "visibility"),
    ("visibility hidden", '"hidden" is not a visibility', "visibility"),
    ("visibility public private", "takes one value", "visibility"),
    ("visibility public @bob", "does not take a person", "visibility"),
    ("components", "components needs the names", "components"),
    ("components INC-3 , ,", "components needs the names", "components"),
    ("components INC-3 INC-4 API", "one incident, not two", "components"),
    ("help declare note", "at most one", "help"),
    ("help nonsense", "is not a command", "help"),
]


@pytest.mark.parametrize(("text", "fragment", "usage_of"), ERRORS)
def test_bad_input_says_what_is_wrong(text: str, fragment: str, usage_of: str) -> None:
    """A ParseError names the problem in one or two sentences and carries the usage line."""
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    assert fragment in error.message
    assert error.usage == SUBCOMMANDS[usage_of].usage
    sentences = [s for s in re.split(r"(?<=[.?!])\s+", error.message.strip()) if s]
    assert 1 <= len(sentences) <= 2
    assert str(error) == error.message


def test_unknown_subcommand_without_close_match_points_to_help() -> None:
    """An unrecognisable word gets no guess, only a pointer to help."""
    with pytest.raises(ParseError) as caught:
        parse("xyzzy now")
    assert "did you mean" not in caught.value.message
    assert '"help"' in caught.value.message


def test_title_limit() -> None:
    """A title of 200 characters is fine; 201 is refused with its length."""
    assert parse("declare " + "a" * MAX_TITLE).text == "a" * MAX_TITLE
    with pytest.raises(ParseError, match="201 characters"):
        parse("declare " + "a" * (MAX_TITLE + 1))


def test_text_limit() -> None:
    """A text of 4000 characters is fine; 4001 is refused."""
    assert len(parse("note " + "b" * MAX_TEXT).text) == MAX_TEXT
    with pytest.raises(ParseError, match="keep it to 4000"):
        parse("update " + "b" * (MAX_TEXT + 1))


def test_input_limit() -> None:
    """Input over 8000 characters is refused before parsing, with the usage when known."""
    with pytest.raises(ParseError) as caught:
        parse("note " + "c " * MAX_INPUT)
    assert "8000" in caught.value.message
    assert caught.value.usage == SUBCOMMANDS["note"].usage
    with pytest.raises(ParseError) as caught:
        parse("x" * (MAX_INPUT + 1))
    assert caught.value.usage == SUBCOMMANDS["help"].usage


REFS = [
    ("INC-12", 12),
    ("inc-12", 12),
    ("Inc12", 12),
    ("#12", 12),
    ("12", 12),
    (" INC-7 ", 7),
    ("INC-0", None),
    ("INC-2147483647", 2147483647),
    ("2147483648", None),
    ("99999999999999999999", None),
    ("0" * 5000 + "7", 7),
    ("9" * 5000, None),
    ("²", None),
    ("INC-", None),
    ("INC-x", None),
    ("12a", None),
    ("", None),
    ("P1", None),
]


@pytest.mark.parametrize(("text", "number"), REFS)
def test_parse_incident_ref(text: str, number: int | None) -> None:
    """INC-n in any case, #n and bare n are references; anything else is None."""
    assert parse_incident_ref(text) == number


def test_table_holds_every_documented_subcommand_and_unique_words() -> None:
    """The table has docs/commands.md's subcommands in order, and no word names two of them."""
    assert list(SUBCOMMANDS) == DOCUMENTED_SUBCOMMANDS
    words = [w for sub in SUBCOMMANDS.values() for w in (sub.name, *sub.aliases)]
    assert len(words) == len(set(words))
    for name, sub in SUBCOMMANDS.items():
        assert sub.name == name
        assert sub.usage.startswith(name)
        assert sub.summary.endswith(".")


def test_help_text_lists_every_usage_and_alias() -> None:
    """The full help holds every usage line, summary and alias, with an optional prefix."""
    text = help_text()
    prefixed = help_text(prefix="/incident ")
    for sub in SUBCOMMANDS.values():
        assert sub.usage in text
        assert sub.summary in text
        assert f"/incident {sub.usage}" in prefixed
        for alias in sub.aliases:
            assert f"{alias} = {sub.name}" in text


@pytest.mark.parametrize("word", [w for s in SUBCOMMANDS.values() for w in (s.name, *s.aliases)])
def test_help_for_one_subcommand(word: str) -> None:
    """help <word> explains the subcommand the word names, with an example that parses."""
    sub = SUBCOMMANDS[parse(f"help {word}").topic]
    text = help_text(word)
    assert text.splitlines()[0] == sub.usage
    assert sub.summary in text
    example = text.splitlines()[-1].removeprefix("Example: ")
    assert parse(example).name == sub.name


def test_help_text_unknown_topic_raises() -> None:
    """help_text refuses an unknown topic with a suggestion, like parse does."""
    with pytest.raises(ParseError, match='did you mean "declare"'):
        help_text("declar")


# --- properties --------------------------------------------------------------------------------
PIECES = [
    *(w for s in SUBCOMMANDS.values() for w in (s.name, *s.aliases)),
    *"\"'“”‘’<>|@#",
    "<@",
    "<@U1|a>",
    "<@!12>",
    "@here",
    "@bob",
    "INC-",
    "INC-3",
    "inc-0",
    "P1",
    "p5",
    "sev:",
    "severity=P2",
    "open",
    "all",
    "deputy",
    "identified",
    "can't",
]
mixed_text = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(PIECES), st.text(max_size=6)),
        st.sampled_from([" ", "", "  ", "\n", "\t"]),
    ),
    max_size=14,
).map(lambda parts: "".join(piece + sep for piece, sep in parts))


def _check_outcome(text: str) -> None:
    outcome: Command | ParseError
    try:
        outcome = parse(text)
    except ParseError as error:
        outcome = error
    if isinstance(outcome, ParseError):
        assert outcome.message
        assert outcome.usage in USAGES
    else:
        command = outcome
        assert command.name in SUBCOMMANDS
        assert command.topic in ("", *SUBCOMMANDS)
        assert len(command.text) <= MAX_TEXT
        assert command.incident is None or command.incident >= 1


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_parses_or_raises_parse_error(text: str) -> None:
    """Arbitrary text yields a Command or a ParseError with a usage line, never a crash."""
    _check_outcome(text)


@settings(max_examples=500, deadline=None)
@given(mixed_text)
def test_command_like_text_parses_or_raises_parse_error(text: str) -> None:
    """Text built from subcommands, quotes, mentions and refs never crashes the parser."""
    _check_outcome(text)


title_words = st.lists(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=12), min_size=1, max_size=8
)
levels = st.sampled_from(list(Severity))
spellings = st.sampled_from(["{}", "{l}", "sev{n}", "sev:{}", "severity={}", "severity:{n}"])
slack_ids = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=2, max_size=10)
names = st.text(alphabet=string.ascii_letters, min_size=1, max_size=10)
mentions = st.one_of(
    st.builds(lambda i, n: (f"<@U{i}|{n}>", Mention(f"U{i}", n)), slack_ids, names),
    st.builds(lambda i: (f"<@U{i}>", Mention(f"U{i}")), slack_ids),
    st.builds(lambda n: (f"<@{n}>", Mention(str(n))), st.integers(1, 10**18)),
    st.builds(lambda n: (f"<@!{n}>", Mention(str(n))), st.integers(1, 10**18)),
    st.builds(lambda n: (f"@{n}", Mention(n)), names),
)


@settings(max_examples=400, deadline=None)
@given(
    title_words,
    st.none() | st.tuples(levels, spellings),
    st.none() | mentions,
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_generated_declares_round_trip(
    words: list[str],
    level: tuple[Severity, str] | None,
    mention: tuple[str, Mention] | None,
    severity_first: bool,
    mention_first: bool,
    quoted: bool,
) -> None:
    """A generated declare gives back the title, severity and commander it was built from."""
    title = " ".join(words)
    before: list[str] = []
    after: list[str] = []
    if level is not None:
        sev, spelling = level
        word = spelling.format(sev.value, l=sev.value.lower(), n=sev.rank)
        (before if severity_first else after).append(word)
    if mention is not None:
        (before if mention_first else after).append(mention[0])
    shown_title = f'"{title}"' if quoted else title
    command = parse(" ".join(["declare", *before, shown_title, *after]))
    assert command == Command(
        "declare",
        text=title,
        severity=level[0] if level else None,
        person=mention[1] if mention else None,
    )


def test_oncall_is_about_no_incident_and_is_in_the_help() -> None:
    """``oncall`` names no incident, and help lists it with its summary."""
    assert parse("oncall").incident is None
    usage = "oncall [override @person <from> <to> [schedule]]"
    assert f"{usage}  — Who is on call now and next;" in help_text(prefix="")
