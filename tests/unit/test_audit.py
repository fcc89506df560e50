"""The audit hash chain: building it, and finding the first place where it was tampered with."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tocsin.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    Break,
    chain,
    entry_hash,
    verify,
)

T0 = datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def record(i: int, **changes: object) -> AuditRecord:
    base = AuditRecord(
        at=T0 + timedelta(seconds=i),
        platform="slack",
        actor_id=f"U{i}",
        actor_name=f"Person {i}",
        command="note",
        incident=i % 3 or None,
        decision="allowed",
        reason="anyone",
        detail=f"/incident note number {i}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def build(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entry = chain(seq, record(seq), prev)
        entries.append(entry)
        prev = entry.hash
    return entries


def with_record(entry: AuditEntry, **changes: object) -> AuditEntry:
    """The same entry with edited record fields but the old hash (a naive tamperer)."""
    return dataclasses.replace(entry, record=dataclasses.replace(entry.record, **changes))  # type: ignore[arg-type]


def test_chain_of_many_entries_verifies() -> None:
    """A chain built with chain() from the genesis hash verifies with no break."""
    entries = build(50)
    assert verify(entries) is None
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))


def test_empty_log_verifies() -> None:
    """An empty audit log has nothing to break."""
    assert verify([]) is None


def test_hash_is_sha256_hex_and_depends_on_every_input() -> None:
    """entry_hash is 64 hex chars and changes when seq, prev_hash or any record field changes."""
    base = record(1)
    reference = entry_hash(1, base, GENESIS_HASH)
    assert len(reference) == 64
    assert int(reference, 16) >= 0
    assert entry_hash(2, base, GENESIS_HASH) != reference
    assert entry_hash(1, base, "1" * 64) != reference
    others = {
        "at": T0 + timedelta(microseconds=1),
        "platform": "discord",
        "actor_id": "U999",
        "actor_name": "Mallory",
        "command": "resolve",
        "incident": 42,
        "decision": "denied",
        "reason": "only the commander may resolve",
        "detail": "something else",
    }
    assert set(others) == {f.name for f in dataclasses.fields(AuditRecord)}
    for name, value in others.items():
        changed = dataclasses.replace(base, **{name: value})  # type: ignore[arg-type]
        assert entry_hash(1, changed, GENESIS_HASH) != reference, name


def test_encoding_is_unambiguous_across_field_boundaries() -> None:
    """Moving characters from one field to the next gives a different hash (no concatenation)."""
    one = dataclasses.replace(record(1), actor_id="ab", actor_name="c")
    two = dataclasses.replace(record(1), actor_id="a", actor_name="bc")
    assert entry_hash(1, one, GENESIS_HASH) != entry_hash(1, two, GENESIS_HASH)
    none = dataclasses.replace(record(1), incident=None)
    zero = dataclasses.replace(record(1), incident=0)
    assert entry_hash(1, none, GENESIS_HASH) != entry_hash(1, zero, GENESIS_HASH)


def test_hash_matches_documented_canonical_json() -> None:
    """The hash is sha256 over sorted, compact, UTF-8 JSON, so other tools can recompute it."""
    rec = dataclasses.replace(record(1), actor_name="Zoë 🚒", incident=None)
    body = {
        "v": 1,
        "seq": 1,
        "at": "2024-03-01T10:00:01.123456+00:00",
        "platform": "slack",
        "actor_id": "U1",
        "actor_name": "Zoë 🚒",
        "command": "note",
        "incident": None,
        "decision": "allowed",
        "reason": "anyone",
        "detail": "/incident note number 1",
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry_hash(1, rec, GENESIS_HASH) == hashlib.sha256(text.encode()).hexdigest()


def test_naive_datetime_hashes_like_utc() -> None:
    """A naive datetime read back from a database hashes as the same instant in UTC."""
    aware = record(1)
    naive = dataclasses.replace(aware, at=aware.at.replace(tzinfo=None))
    assert entry_hash(1, naive, GENESIS_HASH) == entry_hash(1, aware, GENESIS_HASH)


def test_other_offsets_hash_as_the_same_instant() -> None:
    """The same instant given in another UTC offset hashes the same (it is converted to UTC)."""
    aware = record(1)
    berlin = dataclasses.replace(aware, at=aware.at.astimezone(timezone(timedelta(hours=1))))
    assert entry_hash(1, berlin, GENESIS_HASH) == entry_hash(1, aware, GENESIS_HASH)


def test_whole_second_times_keep_microseconds_in_the_encoding() -> None:
    """A time with zero microseconds hashes like its database round-trip (stable isoformat)."""
    rec = dataclasses.replace(record(1), at=datetime(2024, 3, 1, 10, 0, tzinfo=UTC))
    entry = chain(1, rec, GENESIS_HASH)
    round_trip = dataclasses.replace(rec, at=datetime.fromisoformat("2024-03-01 10:00:00.000000"))
    assert verify([dataclasses.replace(entry, record=round_trip)]) is None


def test_hash_is_stable_across_python_processes() -> None:
    """A fresh interpreter (different hash seed) computes the same entry hash."""
    code = (
        "from datetime import datetime, UTC\n"
        "from tocsin.domain.audit import AuditRecord, entry_hash, GENESIS_HASH\n"
        "r = AuditRecord(datetime(2024, 3, 1, tzinfo=UTC), 'cli', 'root', 'Root', 'resolve',"
        " 3, 'error', 'INC-3 is already resolved.', 'tocsin incident resolve INC-3')\n"
        "print(entry_hash(5, r, GENESIS_HASH))\n"
    )
    rec = AuditRecord(
        datetime(2024, 3, 1, tzinfo=UTC),
        "cli",
        "root",
        "Root",
        "resolve",
        3,
        "error",
        "INC-3 is already resolved.",
        "tocsin incident resolve INC-3",
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert out.stdout.strip() == entry_hash(5, rec, GENESIS_HASH)


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(AuditRecord)])
@pytest.mark.parametrize("index", [0, 6, 19])
def test_editing_any_field_of_any_entry_is_caught_at_that_entry(field: str, index: int) -> None:
    """Changing one record field without rehashing breaks the chain at exactly that entry."""
    entries = build(20)
    original = getattr(entries[index].record, field)
    if isinstance(original, datetime):
        new_value: object = original + timedelta(seconds=1)
    elif isinstance(original, int):
        new_value = original + 100
    elif original is None:
        new_value = 99
    else:
        new_value = original + "!"
    entries[index] = with_record(entries[index], **{field: new_value})
    result = verify(entries)
    seq = index + 1
    assert result == Break(seq, f"entry {seq}: hash does not match its contents (edited?)")


def test_edit_with_recomputed_hash_is_caught_at_the_next_entry() -> None:
    """A tamperer who rehashes an edited entry is caught by the next entry's prev_hash."""
    entries = build(10)
    forged_record = dataclasses.replace(entries[6].record, decision="denied")
    entries[6] = chain(7, forged_record, entries[5].hash)
    assert verify(entries) == Break(8, "entry 8: prev_hash does not match entry 7")


def test_deleted_entry_is_reported_as_missing() -> None:
    """Deleting entry 5 of 10 is reported as entry 5 missing, with the jump described."""
    entries = build(10)
    del entries[4]
    assert verify(entries) == Break(5, "entry 5 is missing (sequence jumps from 4 to 6)")


def test_several_deleted_entries_are_reported_as_a_range() -> None:
    """Deleting entries 4 to 6 names the whole missing range."""
    entries = build(10)
    del entries[3:6]
    assert verify(entries) == Break(4, "entries 4 to 6 are missing (sequence jumps from 3 to 7)")


def test_deleted_first_entry_is_reported() -> None:
    """A log that starts at entry 2 is missing entry 1."""
    entries = build(5)[1:]
    assert verify(entries) == Break(1, "entry 1 is missing (the log starts at entry 2)")


def test_reordered_entries_are_caught_where_order_breaks() -> None:
    """Swapping entries 5 and 6 breaks the chain at position 5."""
    entries = build(10)
    entries[4], entries[5] = entries[5], entries[4]
    result = verify(entries)
    assert result is not None
    assert result.seq == 5


def test_repeated_entry_is_caught() -> None:
    """An entry that appears twice is reported where the sequence goes back."""
    entries = build(6)
    entries.insert(4, entries[3])
    assert verify(entries) == Break(
        5, "entry 5 was expected but entry 4 came next (entries repeated or out of order)"
    )


def test_renumbered_swap_is_caught_by_the_hash() -> None:
    """Swapping two records but keeping seq numbers in order is caught by the hashes."""
    entries = build(10)
    a, b = entries[4], entries[5]
    entries[4] = dataclasses.replace(a, record=b.record)
    entries[5] = dataclasses.replace(b, record=a.record)
    assert verify(entries) == Break(5, "entry 5: hash does not match its contents (edited?)")


def test_swapped_prev_hash_is_caught_at_that_entry() -> None:
    """An entry whose prev_hash was replaced is reported as not linking to the one before."""
    entries = build(10)
    entries[7] = dataclasses.replace(entries[7], prev_hash=entries[2].hash)
    assert verify(entries) == Break(8, "entry 8: prev_hash does not match entry 7")


def test_first_entry_must_link_to_genesis() -> None:
    """Entry 1 that does not point at the genesis hash is reported as such."""
    entries = build(3)
    entries[0] = chain(1, entries[0].record, "f" * 64)
    assert verify(entries) == Break(1, "entry 1: prev_hash is not the genesis hash")


def test_edited_hash_field_is_caught() -> None:
    """Overwriting an entry's stored hash is caught at that entry."""
    entries = build(4)
    entries[1] = dataclasses.replace(entries[1], hash="a" * 64)
    assert verify(entries) == Break(2, "entry 2: hash does not match its contents (edited?)")


def test_verify_reports_only_the_first_break() -> None:
    """With two tampered entries, the earlier one is reported."""
    entries = build(10)
    entries[8] = with_record(entries[8], reason="x")
    entries[2] = with_record(entries[2], reason="y")
    result = verify(entries)
    assert result is not None
    assert result.seq == 3


def test_verify_in_pages_using_expected_prev_and_seq() -> None:
    """A log can be verified page by page by passing the last hash and the next seq."""
    entries = build(30)
    assert verify(entries[:10]) is None
    assert verify(entries[10:], expected_prev=entries[9].hash, expected_seq=11) is None
    assert verify(entries[11:], expected_prev=entries[9].hash, expected_seq=11) == Break(
        11, "entry 11 is missing (sequence jumps from 10 to 12)"
    )


def test_verify_streams_and_stops_at_the_first_break() -> None:
    """verify consumes a one-shot iterator and stops reading right after the first break."""
    consumed: list[int] = []

    def stream() -> Iterator[AuditEntry]:
        prev = GENESIS_HASH
        for seq in range(1, 1_000_001):
            consumed.append(seq)
            entry = chain(seq, record(seq), prev)
            if seq == 500:
                entry = with_record(entry, detail="forged")
            prev = entry.hash
            yield entry

    assert verify(stream()) == Break(500, "entry 500: hash does not match its contents (edited?)")
    assert consumed[-1] == 500


def test_verify_a_long_stream_without_keeping_it() -> None:
    """Twenty thousand entries from a generator verify (the generator keeps none of them)."""

    def stream() -> Iterator[AuditEntry]:
        prev = GENESIS_HASH
        for seq in range(1, 20_001):
            entry = chain(seq, record(seq), prev)
            prev = entry.hash
            yield entry

    assert verify(stream()) is None
