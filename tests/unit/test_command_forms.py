"""The command language's subcommands with several forms: ``summary`` (the public post-mortem
summary) and ``maintenance`` (windows from chat), good and bad input, and their help."""

from __future__ import annotations

import pytest

from tocsin.domain.commands import MAX_PUBLIC_SUMMARY, Command, help_text, parse
from tocsin.domain.errors import ParseError

C = Command
GOOD = [
    ("summary", C("summary", verb="show")),
    ("summary INC-4", C("summary", incident=4, verb="show")),
    ("summary INC-4 clear", C("summary", incident=4, verb="clear")),
    ("summary CLEAR", C("summary", verb="clear")),
    ('summary INC-4 "clear"', C("summary", incident=4, text="clear", verb="set")),
    (
        "summary INC-4 A bad cache config.\nWe now canary config changes.",
        C(
            "summary",
            incident=4,
            text="A bad cache config.\nWe now canary config changes.",
            verb="set",
        ),
    ),
    ("summary clear the cache first", C("summary", text="clear the cache first", verb="set")),
    ("summary see INC-2 too", C("summary", text="see INC-2 too", verb="set")),
    ("maintenance", C("maintenance", verb="list")),
    ("maintenance LIST", C("maintenance", verb="list")),
    ("maint list", C("maintenance", verb="list")),
    (
        'maintenance schedule "2026-12-01 09:00" +2h "DB upgrade" component:API',
        C(
            "maintenance",
            verb="schedule",
            starts="2026-12-01 09:00",
            ends="+2h",
            text="DB upgrade",
            components=("API",),
        ),
    ),
    (
        'maintenance create now +1h DB   upgrade component:"Web app" component:API,Search '
        "-- Postgres 17; writes pause for a minute.",
        C(
            "maintenance",
            verb="schedule",
            starts="now",
            ends="+1h",
            text="DB upgrade",
            components=("Web app", "API", "Search"),
            description="Postgres 17; writes pause for a minute.",
        ),
    ),
    ("maintenance edit 7 - +4h", C("maintenance", verb="edit", item=7, ends="+4h")),
    (
        "maintenance edit #7 2026-12-01T10:00Z -",
        C("maintenance", verb="edit", item=7, starts="2026-12-01T10:00Z"),
    ),
    ("maintenance cancel #12", C("maintenance", verb="cancel", item=12)),
]


@pytest.mark.parametrize(("text", "expected"), GOOD)
def test_good_input_parses(text: str, expected: Command) -> None:
    """Each form reads into the command the services run: ``summary`` alone shows, ``clear``
    removes (a quoted "clear" is text), anything else is the text with its line breaks;
    ``maintenance`` lists, schedules (components and the description after --), edits
    (- keeps an edge) and cancels."""
    assert parse(text) == expected


BAD = [
    ("summary " + "x" * (MAX_PUBLIC_SUMMARY + 1), "2001 characters long; keep it to 2000",
     "summary [INC-n] [text]"),
    ("summary INC-0 text", "INC-0", "summary [INC-n] [text]"),
    ("maintenance frob", 'not "frob"', "maintenance [list | schedule"),
    ("maintenance list all", 'nothing after it, not "all"', "maintenance [list | schedule"),
    ("maintenance schedule now +2h", "needs a start, an end and a title",
     "maintenance schedule <start> <end> <title>"),
    ("maintenance schedule now +2h component:API", "needs a start, an end and a title",
     "maintenance schedule <start> <end> <title>"),
    ("maintenance schedule now +2h " + "t" * 201, "title: keep it to 200",
     "maintenance schedule <start> <end> <title>"),
    ("maintenance cancel", "needs the maintenance's id", "maintenance cancel <id>"),
    ("maintenance cancel seven", '"seven" is not a maintenance id', "maintenance cancel <id>"),
    ("maintenance cancel 7 now", "takes only an id", "maintenance cancel <id>"),
    ("maintenance edit 7", "needs the id, the start and the end", "maintenance edit <id>"),
    ("maintenance edit 7 - -", "a new start or a new end", "maintenance edit <id>"),
    ("maintenance edit 0 now +1h", '"0" is not a maintenance id', "maintenance edit <id>"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "fragment", "usage"), BAD)
def test_bad_input_says_what_is_wrong_with_the_forms_usage(
    text: str, fragment: str, usage: str
) -> None:
    """Bad input is a ParseError whose sentence says what is wrong and whose usage line is the
    form's (schedule, edit, cancel) or the subcommand's."""
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert fragment in caught.value.message
    assert caught.value.usage.startswith(usage)


def test_help_lists_summary_and_maintenance_with_details() -> None:
    """``help`` lists both subcommands; ``help summary`` and ``help maintenance`` show the
    usage, what they do and an example (``maint`` is the short form)."""
    everything = help_text(prefix="/incident ")
    assert "/incident summary [INC-n] [text]" in everything
    assert "/incident maintenance [list | schedule <start> <end> <title>" in everything
    assert "maint = maintenance" in everything
    summary = help_text("summary")
    assert "clear" in summary
    assert "status page" in summary
    assert "Example: summary INC-12 " in summary
    maintenance = help_text("maint", prefix="/incident ")
    assert "edit <id> <start|-> <end|->" in maintenance
    assert "cancel <id>" in maintenance
    assert 'Example: /incident maintenance schedule "2026-12-01 09:00" +2h' in maintenance
