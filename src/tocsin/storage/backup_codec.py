"""The backup file: how values become JSON and back, and how the file is opened.

A backup is UTF-8 JSON lines, gzip-compressed when the file name ends in ``.gz`` (a gzip file is
also recognised by its first bytes when read, whatever its name):

.. code-block:: text

    {"format": "tocsin-backup", "format_version": 1, "schema_revision": "0001", ...}
    {"table": "incidents", "columns": ["number", "title", ...]}
    [1, "API down", ...]                              one JSON array per row, in column order
    {"table": "timeline", "columns": [...]}
    ...
    {"end": true, "rows": {"incidents": 1, "timeline": 3, ...}}

Tables come parents first (the order of ``tables.metadata.sorted_tables``), so a restore can
insert them in file order with foreign keys on. The closing ``end`` line makes a truncated file
detectable. Values are portable between SQLite and PostgreSQL: timestamps are ISO-8601 in UTC
with microseconds (a naive timestamp read from SQLite is taken to be UTC, as everywhere in
tocsin), JSON columns stay JSON, binary data is base64, decimals and UUIDs are strings.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import gzip
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from tocsin.storage import maintenance_tables, migrate, tables  # noqa: F401 - maintenance_tables registers its table

BATCH = 1000
FORMAT = "tocsin-backup"
FORMAT_VERSION = 1
GZIP_MAGIC = b"\x1f\x8b"

Codec = Callable[[Any], Any]


class BackupError(Exception):
    """A backup or restore cannot go on; ``str()`` is one line saying why and what to do."""


@dataclass(frozen=True)
class TableLayout:
    """One table as it exists in the database: its columns and how to order its rows."""

    name: str
    columns: tuple[str, ...]
    types: tuple[sa.types.TypeEngine[Any], ...]
    order_by: tuple[str, ...]

    def clause(self, columns: tuple[str, ...] | None = None) -> sa.TableClause:
        kinds = dict(zip(self.columns, self.types, strict=True))
        names = columns or self.columns
        return sa.table(self.name, *(sa.column(name, kinds[name]) for name in names))


def layout(sync_conn: sa.Connection) -> dict[str, TableLayout]:
    """The tocsin tables present in the database, parents first, with the columns they have.

    Every table of ``tables.metadata`` is included, so tables added later need no change here.
    Columns come from the database itself (a database at an older schema revision is read as
    it is); their types come from ``tables.metadata`` where the column is known there. A
    database behind this tocsin's newest revision may still hold tables that later revisions
    drop (their data moved elsewhere): those come last, with the types the database reports.
    """
    inspector = sa.inspect(sync_conn)
    present = set(inspector.get_table_names())
    found: dict[str, TableLayout] = {}
    for table in tables.metadata.sorted_tables:
        if table.name not in present:
            continue
        columns, types = [], []
        for info in inspector.get_columns(table.name):
            name = str(info["name"])
            columns.append(name)
            types.append(table.c[name].type if name in table.c else info["type"])
        order = tuple(str(c.name) for c in table.primary_key.columns if c.name in columns)
        name = str(table.name)
        found[name] = TableLayout(name, tuple(columns), tuple(types), order)
    if _behind_head(sync_conn):
        for name in sorted(present - set(found) - {"alembic_version"}):
            infos = inspector.get_columns(name)
            keys = inspector.get_pk_constraint(name).get("constrained_columns") or []
            found[name] = TableLayout(
                name,
                tuple(str(i["name"]) for i in infos),
                tuple(i["type"] for i in infos),
                tuple(str(c) for c in keys),
            )
    return found


def _behind_head(sync_conn: sa.Connection) -> bool:
    revision = MigrationContext.configure(sync_conn).get_current_revision()
    return revision is not None and revision != migrate.head_revision()


def _same(value: Any) -> Any:
    return value


def _encode_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _decode_datetime(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _nullable(codec: Codec) -> Codec:
    def apply(value: Any) -> Any:
        return None if value is None else codec(value)

    return apply


def _underlying(type_: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """The type a TypeDecorator wraps (its own conversion still runs on the way in and out)."""
    while isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    return type_


def encoder(type_: sa.types.TypeEngine[Any]) -> Codec:
    """A function turning a value read from a column of ``type_`` into plain JSON."""
    type_ = _underlying(type_)
    if isinstance(type_, sa.JSON):
        return _same
    if isinstance(type_, sa.DateTime):
        if type_.timezone:
            return _nullable(_encode_datetime)
        return _nullable(lambda v: v.isoformat(timespec="microseconds"))
    if isinstance(type_, sa.Date | sa.Time):
        return _nullable(lambda v: v.isoformat())
    if isinstance(type_, sa.Interval):
        return _nullable(lambda v: v.total_seconds())
    if isinstance(type_, sa.LargeBinary):
        return _nullable(lambda v: base64.b64encode(bytes(v)).decode("ascii"))
    if isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float):
        return _nullable(str)
    if isinstance(type_, sa.Uuid):
        return _nullable(str)
    return _same


def decoder(type_: sa.types.TypeEngine[Any]) -> Codec:
    """The inverse of :func:`encoder`: plain JSON back to what the column takes."""
    type_ = _underlying(type_)
    if isinstance(type_, sa.JSON):
        return _same
    if isinstance(type_, sa.DateTime):
        if type_.timezone:
            return _nullable(_decode_datetime)
        return _nullable(dt.datetime.fromisoformat)
    if isinstance(type_, sa.Date):
        return _nullable(dt.date.fromisoformat)
    if isinstance(type_, sa.Time):
        return _nullable(dt.time.fromisoformat)
    if isinstance(type_, sa.Interval):
        return _nullable(lambda v: dt.timedelta(seconds=v))
    if isinstance(type_, sa.LargeBinary):
        return _nullable(base64.b64decode)
    if isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float):
        return _nullable(decimal.Decimal)
    if isinstance(type_, sa.Uuid):
        return _nullable(uuid.UUID if type_.as_uuid else str)
    return _same


class Writer:
    """Writes one JSON value per line."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write

    def write(self, value: Any) -> None:
        self._write(orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE))


@contextlib.contextmanager
def open_for_writing(path: Path) -> Iterator[Writer]:
    """Write ``path`` through a temporary file renamed into place only when complete."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "wb") as raw:
            if path.name.endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped:
                    yield Writer(zipped.write)
            else:
                yield Writer(raw.write)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


@contextlib.contextmanager
def open_for_reading(path: Path) -> Iterator[Iterator[tuple[int, Any]]]:
    """``(line number, parsed JSON)`` for every non-blank line of ``path`` (gzip or not)."""
    with open(path, "rb") as raw:
        zipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        if not zipped:
            yield _lines(path, raw)
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield _lines(path, unzipped)


class FileFormatError(ValueError):
    """The file is not a readable tocsin backup; the message says where and why."""


def _lines(path: Path, stream: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    number = 0
    try:
        for number, line in enumerate(stream, 1):
            if line.strip():
                yield number, orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: line {number} is not valid JSON ({exc})") from None
    except (OSError, EOFError) as exc:  # a damaged or truncated gzip stream
        raise FileFormatError(f"{path}: cannot be read after line {number} ({exc})") from None
