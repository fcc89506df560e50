"""The audit log: append-only, hash-chained records of every state-changing command.

Each stored :class:`AuditEntry` carries the SHA-256 of its own contents (its ``seq``, every field
of its :class:`AuditRecord` and the previous entry's hash). Changing, removing or reordering any
entry therefore breaks the chain at that entry or the one after it, and :func:`verify` reports
the first place where it breaks.

The hash is computed over a canonical JSON encoding (sorted keys, no spaces, UTF-8) so it is the
same in every Python run and after a round-trip through SQLite or PostgreSQL. Datetimes are
encoded as ISO-8601 UTC with microseconds; a naive datetime (as some database drivers return)
is taken to be UTC.

What the chain cannot prove on its own: that the newest entries were not cut off the end, or
that the whole log was not rewritten from some entry on with fresh hashes. The database keeps
the head (seq and hash) in a separate row that ``tocsin audit verify`` compares with the last
entry, which catches a cut tail; keep the head hash somewhere else too (a backup, a log line)
when a rewrite by someone with write access to the database matters.

What is recorded: every command that changed state (``allowed``) and every attempt refused by
permission (``denied``). A command the incident's state refuses (resolving a resolved incident)
changes nothing and is not recorded; ``error`` is reserved for callers that want to record one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

GENESIS_HASH: str = "0" * 64
"""The ``prev_hash`` of the first entry."""

HASH_FORMAT_VERSION = 1
"""Part of every hashed payload, so the encoding can change later without ambiguity."""

ALLOWED = "allowed"
DENIED = "denied"
ERROR = "error"
DECISIONS: tuple[str, ...] = (ALLOWED, DENIED, ERROR)

_ZERO = timedelta(0)
# One encoder, built once: json.dumps() with options builds a new one per call (slow).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a service wants to record; the chain fields are added by :func:`chain`."""

    at: datetime
    """When it happened, timezone-aware UTC (a naive value is taken as UTC)."""
    platform: str
    actor_id: str
    actor_name: str
    command: str
    """The subcommand name, e.g. ``"resolve"``."""
    incident: int | None
    """The ``n`` of ``INC-n``, if the command concerned an incident."""
    decision: str
    """``"allowed"``, ``"denied"`` or ``"error"`` (reserved; see the module docstring)."""
    reason: str
    """Why: the role that allowed it, the denial reason, or the error message."""
    detail: str = ""
    """The raw command text or a short summary."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored, chained entry. ``seq`` counts 1, 2, 3... without gaps."""

    seq: int
    record: AuditRecord
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain first breaks and what is wrong there, in words fit to print."""

    seq: int
    problem: str


def canonical_time(at: datetime) -> str:
    """``at`` as ISO-8601 UTC with microseconds; naive datetimes are taken to be UTC."""
    offset = at.utcoffset()
    if offset is None:
        at = at.replace(tzinfo=UTC)
    elif offset != _ZERO:
        at = at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def _payload(seq: int, record: AuditRecord, prev_hash: str) -> bytes:
    body = {
        "v": HASH_FORMAT_VERSION,
        "seq": seq,
        "at": canonical_time(record.at),
        "platform": record.platform,
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "command": record.command,
        "incident": record.incident,
        "decision": record.decision,
        "reason": record.reason,
        "detail": record.detail,
        "prev_hash": prev_hash,
    }
    text = _ENCODER.encode(body)
    # surrogatepass: a lone surrogate (invalid text that slipped in) still hashes, stably.
    return text.encode("utf-8", "surrogatepass")


def entry_hash(seq: int, record: AuditRecord, prev_hash: str) -> str:
    """SHA-256 (hex) of the canonical encoding of ``seq``, the record and ``prev_hash``."""
    return hashlib.sha256(_payload(seq, record, prev_hash)).hexdigest()


def chain(seq: int, record: AuditRecord, prev_hash: str) -> AuditEntry:
    """The entry that appends ``record`` as number ``seq`` after the entry hashed ``prev_hash``."""
    return AuditEntry(seq, record, prev_hash, entry_hash(seq, record, prev_hash))


def check(entry: AuditEntry, expected_prev: str, expected_seq: int) -> Break | None:
    """Check one entry against what the entry before it implies; ``None`` when it holds."""
    seq = entry.seq
    if seq != expected_seq:
        return _sequence_break(seq, expected_seq)
    if entry.prev_hash != expected_prev:
        if seq == 1:
            return Break(seq, "entry 1: prev_hash is not the genesis hash")
        return Break(seq, f"entry {seq}: prev_hash does not match entry {seq - 1}")
    if entry.hash != entry_hash(seq, entry.record, entry.prev_hash):
        return Break(seq, f"entry {seq}: hash does not match its contents (edited?)")
    return None


def _sequence_break(seq: int, expected_seq: int) -> Break:
    if seq > expected_seq:
        if expected_seq == 1:
            return Break(1, f"entry 1 is missing (the log starts at entry {seq})")
        missing = (
            f"entry {expected_seq} is missing"
            if seq == expected_seq + 1
            else f"entries {expected_seq} to {seq - 1} are missing"
        )
        return Break(expected_seq, f"{missing} (sequence jumps from {expected_seq - 1} to {seq})")
    return Break(
        expected_seq,
        f"entry {expected_seq} was expected but entry {seq} came next "
        "(entries repeated or out of order)",
    )


def verify(
    entries: Iterable[AuditEntry],
    expected_prev: str = GENESIS_HASH,
    expected_seq: int = 1,
) -> Break | None:
    """The first break in ``entries`` (read in order, one at a time), or ``None`` if unbroken.

    ``expected_prev`` and ``expected_seq`` let a caller verify a long log in pages: pass the last
    verified entry's hash and ``seq + 1``. Memory use does not grow with the number of entries.
    """
    for entry in entries:
        problem = check(entry, expected_prev, expected_seq)
        if problem is not None:
            return problem
        expected_prev = entry.hash
        expected_seq += 1
    return None
