"""The subcommands with several forms: ``summary`` (an incident's public post-mortem summary),
``visibility`` and ``components`` (what the public status page shows of an incident) and
``maintenance`` (scheduled maintenance windows, about no incident).

* ``summary [INC-n]`` shows the incident's public summary; ``summary [INC-n] clear`` removes it;
  ``summary [INC-n] <text>`` publishes or replaces it (at most 2,000 characters, line breaks
  kept; a quoted ``"clear"`` is text).
* ``visibility [INC-n] <public|private|policy>``: ``verb`` is the word; ``policy`` hands the
  choice back to the severity policy.
* ``components [INC-n] <name>...``: the status page components the incident affects (quote a name
  with spaces, or separate names with commas); ``none`` alone names none. The service matches the
  names against the known components, ignoring case.
* ``maintenance`` or ``maintenance list``: the windows scheduled or in progress.
  ``maintenance schedule <start> <end> <title> [component:<name>]... [-- <description>]``
  (``create`` works too): the times as the CLI reads them (ISO 8601 in UTC unless it has an
  offset, ``now``, ``+2h``, quoted ``"2026-12-01 09:00"``); a component name with spaces is
  quoted after the colon (``component:"Web app"``), several may share one ``component:``
  separated by commas; everything after a lone ``--`` is the description.
  ``maintenance edit <id> <start|-> <end|->`` moves the window (``-`` keeps that edge);
  ``maintenance cancel <id>``. An id is ``7`` or ``#7``. The times are checked by the service
  (:mod:`tocsin.domain.maintenance`), which names the bad field.
"""

from __future__ import annotations

import re

from tocsin.domain.command_types import (
    MAX_PUBLIC_SUMMARY,
    MAX_TITLE,
    Command,
    Subcommand,
    Token,
)
from tocsin.domain.command_words import (
    SPACE_RE,
    check_length,
    fail,
    join,
    only,
    ref,
    scan,
    tokens_of,
    word,
)
from tocsin.domain.errors import ParseError
from tocsin.domain.references import quoted as show

SHOW, SET, CLEAR = "show", "set", "clear"
PUBLIC, PRIVATE, POLICY = "public", "private", "policy"
VISIBILITY_WORDS = (PUBLIC, PRIVATE, POLICY)
NO_COMPONENTS = "none"
LIST, SCHEDULE, EDIT, CANCEL = "list", "schedule", "edit", "cancel"
MAINTENANCE_VERBS = {LIST: LIST, SCHEDULE: SCHEDULE, "create": SCHEDULE, EDIT: EDIT,
                     CANCEL: CANCEL}  # fmt: skip
SCHEDULE_USAGE = (
    "maintenance schedule <start> <end> <title> [component:<name>]... [-- <description>]"
)
EDIT_USAGE = "maintenance edit <id> <start|-> <end|->"
CANCEL_USAGE = "maintenance cancel <id>"
KEEP = "-"
_COMPONENT_RE = re.compile(
    r'(?<!\S)component:(?:"([^"]*)"|“([^”]*)”|(\S+))(?=\s|\Z)', re.IGNORECASE
)
_DESCRIPTION_RE = re.compile(r"(?<!\S)--(?=\s|\Z)")
_ID_RE = re.compile(r"#?([1-9][0-9]{0,8})")


# --- summary --------------------------------------------------------------------------------------
def summary_command(sub: Subcommand, incident: int | None, body: str) -> Command:
    """``summary``'s command from its text: nothing shows, ``clear`` removes, the rest is set."""
    body = body.strip()
    if not body:
        return Command(sub.name, incident=incident, verb=SHOW)
    if body.lower() == CLEAR:
        return Command(sub.name, incident=incident, verb=CLEAR)
    check_length(sub, "public summary", body, MAX_PUBLIC_SUMMARY)
    return Command(sub.name, incident=incident, text=body, verb=SET)


def build_summary(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``summary [INC-n] [clear|<text>]``; only a reference right after the subcommand counts."""
    incident = ref(sub, tokens[0]) if tokens else None
    if incident is not None:
        tokens = tokens[1:]
    if len(tokens) == 1 and tokens[0].lastgroup:  # a quoted "clear" is text
        body = check_length(sub, "public summary", word(tokens[0]).strip(), MAX_PUBLIC_SUMMARY)
        if body:
            return Command(sub.name, incident=incident, text=body, verb=SET)
    return summary_command(sub, incident, join(text, tokens))


# --- visibility and components -------------------------------------------------------------------
def visibility_word(sub: Subcommand, value: str) -> str:
    """``public``, ``private`` or ``policy`` (any case), or a ParseError with the usage line."""
    chosen = value.strip().lower()
    if chosen not in VISIBILITY_WORDS:
        fail(sub, f"{show(value)} is not a visibility; use public, private or policy.")
    return chosen


def build_visibility(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``visibility [INC-n] <public|private|policy>``."""
    incident, _, rest = scan(sub, tokens, people=False)
    chosen = visibility_word(sub, word(only(sub, text, rest)))
    return Command(sub.name, incident=incident, verb=chosen)


def components_command(sub: Subcommand, incident: int | None, values: list[str]) -> Command:
    """``components``' command from the names given (commas separate several; ``none`` alone
    names none)."""
    names = component_names(values)
    if not names:
        fail(sub, sub.needs)
    if len(names) == 1 and names[0].lower() == NO_COMPONENTS:
        names = ()
    return Command(sub.name, incident=incident, components=names)


def build_components(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``components [INC-n] <name>...``: each word or quoted string is a name."""
    incident, _, rest = scan(sub, tokens, people=False)
    return components_command(sub, incident, [word(token) for token in rest])


# --- maintenance ----------------------------------------------------------------------------------
def maintenance_id(value: str, usage: str) -> int:
    """``7`` or ``#7``: a maintenance's id."""
    match = _ID_RE.fullmatch(value.strip())
    if match is None:
        raise ParseError(f"{show(value)} is not a maintenance id; give its number, like 7.", usage)
    return int(match[1])


def component_names(values: list[str]) -> tuple[str, ...]:
    """The names given with ``component:`` (commas separate several), trimmed, in order."""
    names = (" ".join(part.split()) for value in values for part in value.split(","))
    return tuple(dict.fromkeys(name for name in names if name))


def build_maintenance(sub: Subcommand, text: str, tokens: list[Token]) -> Command:
    """``maintenance [list | schedule ... | edit ... | cancel <id>]``."""
    if not tokens:
        return Command(sub.name, verb=LIST)
    verb = MAINTENANCE_VERBS.get(word(tokens[0]).lower())
    if verb is None:
        fail(sub, f"maintenance takes list, schedule, edit or cancel, not {show(word(tokens[0]))}.")
    after = text[tokens[0].end() :]
    if verb == SCHEDULE:
        return _schedule(sub, after)
    rest = tokens_of(after)
    if verb == LIST:
        if rest:
            fail(sub, f"maintenance list takes nothing after it, not {show(join(after, rest))}.")
        return Command(sub.name, verb=LIST)
    usage = EDIT_USAGE if verb == EDIT else CANCEL_USAGE
    if not rest:
        raise ParseError(f"maintenance {verb} needs the maintenance's id, like 7.", usage)
    item = maintenance_id(word(rest[0]), usage)
    if verb == CANCEL:
        if len(rest) > 1:
            raise ParseError(f"maintenance cancel takes only an id, not {show(after)}.", usage)
        return Command(sub.name, verb=CANCEL, item=item)
    if len(rest) != 3:
        raise ParseError("maintenance edit needs the id, the start and the end (- keeps one).",
                         usage)  # fmt: skip
    starts, ends = (word(token).strip() for token in rest[1:])
    if starts == KEEP and ends == KEEP:
        raise ParseError("maintenance edit needs a new start or a new end (- keeps one).", usage)
    return Command(sub.name, verb=EDIT, item=item, starts="" if starts == KEEP else starts,
                   ends="" if ends == KEEP else ends)  # fmt: skip


def _schedule(sub: Subcommand, after: str) -> Command:
    description = ""
    dashes = _DESCRIPTION_RE.search(after)
    if dashes is not None:
        after, description = after[: dashes.start()], after[dashes.end() :].strip()
    names = [m[1] if m[1] is not None else (m[2] if m[2] is not None else m[3])
             for m in _COMPONENT_RE.finditer(after)]  # fmt: skip
    after = _COMPONENT_RE.sub(" ", after)
    rest = tokens_of(after)
    if len(rest) < 3:
        raise ParseError(
            "maintenance schedule needs a start, an end and a title, for example: "
            'maintenance schedule "2026-12-01 09:00" +2h "Database upgrade" component:API.',
            SCHEDULE_USAGE,
        )
    title = SPACE_RE.sub(" ", join(after, rest[2:]))
    if len(title) > MAX_TITLE:
        raise ParseError(f"title: keep it to {MAX_TITLE} characters or fewer.", SCHEDULE_USAGE)
    starts, ends = word(rest[0]).strip(), word(rest[1]).strip()
    return Command(sub.name, verb=SCHEDULE, text=title, starts=starts, ends=ends,
                   components=component_names(names), description=description)  # fmt: skip
