"""Incident references: ``INC-12`` (any case, dash optional) and, where a reference is expected
anyway, ``#12`` and ``12``.

Every ``INC-<digits>`` is a reference. Incident numbers run from 1 to :data:`MAX_INCIDENT` (what a
SQL INTEGER column holds): a reference outside that range (``INC-0``, twenty digits) names no
incident, so it is refused here and never reaches storage. Digits are checked by length before
``int()``, which refuses thousands of them.
"""

from __future__ import annotations

import re

from tocsin.domain.errors import ParseError

MAX_INCIDENT = 2**31 - 1
_STRICT_RE = re.compile(r"inc-?([0-9]+)", re.IGNORECASE)
_LOOSE_RE = re.compile(r"(?:inc-?|#)?([0-9]+)", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


def parse_incident_ref(text: str) -> int | None:
    """``INC-12``, ``inc-12``, ``INC12``, ``#12`` or ``12`` -> 12; anything else -> ``None``,
    and so is a number outside 1..:data:`MAX_INCIDENT` (no incident has it).

    Bare numbers are accepted here because callers (CLI arguments, URL paths) already know the
    value is a reference. Inside free command text only the ``INC-n`` form counts.
    """
    match = _LOOSE_RE.fullmatch(text.strip())
    return _bounded(match[1]) if match else None


def reference_in(word: str, usage: str = "", *, loose: bool = False) -> int | None:
    """The incident ``word`` names (``INC-n``; also ``#n`` and ``n`` when ``loose``), or None
    when it is no reference; a :class:`ParseError` for a reference no incident can have."""
    match = (_LOOSE_RE if loose else _STRICT_RE).fullmatch(word)
    if match is None:
        return None
    number = _bounded(match[1])
    if number is None:
        shown = quoted(word)[1:-1]
        raise ParseError(
            f"There is no {shown}: incident numbers run from 1 to {MAX_INCIDENT}.", usage
        )
    return number


def incident_reference(word: str, usage: str = "") -> int:
    """The incident a value that must be a reference names (a Discord option): a
    :class:`ParseError` saying how to write one for anything else."""
    number = reference_in(word.strip(), usage, loose=True)
    if number is None:
        raise ParseError(f"{quoted(word)} is not an incident; write it like INC-12.", usage)
    return number


def quoted(word: str) -> str:
    """``word`` in quotes for a message, whitespace collapsed, cut after 40 characters."""
    word = _SPACE_RE.sub(" ", word)
    return f'"{word[:40]}…"' if len(word) > 40 else f'"{word}"'


def _bounded(digits: str) -> int | None:
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(MAX_INCIDENT)):
        return None
    number = int(significant)
    return number if 0 < number <= MAX_INCIDENT else None
