"""The write path's statements, run straight on SQLite when a unit of work holds the write lock.

A ``note`` is about ten statements, and on SQLite each spent ~20 µs in SQLite and ~100 µs in
SQLAlchemy's execution layer around it (greenlet hand-off, execution context, result set-up; see
docs/performance.md). For the statements of the hot write path, :class:`Prepared` keeps what
SQLAlchemy decides, the SQL text, the parameter order and the type conversions (datetime and
JSON encodings, booleans; the result types on the way back), by compiling each statement of a
:class:`Prepared` once with SQLAlchemy, and then runs it on the driver's ``sqlite3`` connection
itself. Errors come out as the same ``sqlalchemy.exc`` classes.

It does so only inside a write transaction (``BEGIN IMMEDIATE``, which every SQLite write unit
of work holds): there the statement cannot meet another process's lock and SQLAlchemy's
transaction, savepoint and commit bookkeeping are unchanged. Anywhere else, on PostgreSQL, and
for any statement whose compiled form needs more of SQLAlchemy (Python-side defaults, expanding
or callable parameters, a missing required parameter), it is ``conn.execute`` as usual, so the
answer is the same either way. Every parameter set of an executemany must name the same keys.
SQL echo and cursor events do not see the direct statements.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler

from tocsin.storage import sqlite_driver

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Done:
    """What a statement did: rows it changed and the rows it returned (RETURNING or SELECT),
    each a mapping of column name to value."""

    rowcount: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    # Per ``?``, in order: the parameter name to read (None: a value fixed in the statement),
    # that fixed value, and the type's conversion. Precomputed from what SQLAlchemy's
    # ``construct_params`` and bind processors would do, which cost as much as the statement.
    params: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]
    names: tuple[str, ...]  # result columns, in order
    results: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A statement built once (at import), run directly on SQLite where it can.

    ``await PREPARED.run(conn, params)`` with one mapping of parameters, or a list of them for
    an executemany. The compiled form is kept per set of parameter names, as SQLAlchemy's own
    cache would key it.
    """

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    async def run(self, conn: AsyncConnection, params: Params | Sequence[Params]) -> Done:
        many = not isinstance(params, Mapping)
        rows_in: Sequence[Params] = params if many else [params]  # type: ignore[list-item,assignment]
        raw = writing_sqlite(conn) if rows_in else None
        plan = self._plan(conn.dialect, rows_in[0]) if raw is not None else None
        if raw is None or plan is None:
            return await _through_sqlalchemy(conn, self.statement, params, many)
        try:
            return _run(raw.cursor(), plan, rows_in, many)
        except sqlite3.Error as error:  # the exception classes callers of conn.execute see
            raise sa.exc.DBAPIError.instance(
                plan.sql, None, error, sqlite3.Error, dialect=conn.dialect
            ) from error

    def _plan(self, dialect: sa.Dialect, first: Params) -> _Plan | None:
        keys = tuple(first)
        try:
            return self._plans[keys]
        except KeyError:
            plan = self._plans[keys] = _compile(dialect, self.statement, keys)
            return plan


def _run(cursor: sqlite3.Cursor, plan: _Plan, rows_in: Sequence[Params], many: bool) -> Done:
    try:
        if plan.names:  # rows come back: one execute per parameter set
            rowcount, rows = 0, list[dict[str, Any]]()
            for row in rows_in:
                cursor.execute(plan.sql, _positional(plan, row))
                rows.extend(_result(plan, r) for r in cursor.fetchall())
                rowcount += max(cursor.rowcount, 0)
            return Done(rowcount, rows)
        if many:
            cursor.executemany(plan.sql, [_positional(plan, row) for row in rows_in])
        else:
            cursor.execute(plan.sql, _positional(plan, rows_in[0]))
        return Done(cursor.rowcount, [])
    finally:
        cursor.close()


def writing_sqlite(conn: AsyncConnection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under ``conn`` if it is inside a write transaction."""
    if not conn.in_transaction():
        return None
    driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    if isinstance(driver, sqlite_driver.Connection) and driver._writing:
        return driver._conn
    return None


def _compile(dialect: sa.Dialect, statement: sa.Executable, keys: tuple[str, ...]) -> _Plan | None:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    if not isinstance(compiled, SQLCompiler) or not compiled.positional:
        return None
    if (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.schema_translate_map
        or compiled.positiontup is None
    ):
        return None
    processors: Mapping[str, Callable[[Any], Any]] = compiled._bind_processors  # type: ignore[assignment]
    params: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
    for name in compiled.positiontup:
        bind = next(b for b, n in compiled.bind_names.items() if n == name)
        convert = processors.get(name)
        if bind.callable is not None:
            return None
        if bind.key in keys or name in keys:
            params.append((bind.key if bind.key in keys else name, None, convert))
        elif bind.required:
            return None  # SQLAlchemy says which parameter is missing
        else:
            value = bind.value
            params.append((None, convert(value) if convert is not None else value, None))
    names, results = [], []
    for column in compiled._result_columns:
        names.append(column.keyname)
        results.append(column.type._cached_result_processor(dialect, None))
    return _Plan(
        sql=compiled.string, params=tuple(params), names=tuple(names), results=tuple(results)
    )


def _positional(plan: _Plan, row: Params) -> list[Any]:
    out = []
    for key, fixed, convert in plan.params:
        value = fixed if key is None else row[key]
        out.append(value if convert is None else convert(value))
    return out


def _result(plan: _Plan, row: Sequence[Any]) -> dict[str, Any]:
    return {
        name: (convert(value) if convert is not None else value)
        for name, convert, value in zip(plan.names, plan.results, row, strict=True)
    }


async def _through_sqlalchemy(
    conn: AsyncConnection,
    statement: sa.Executable,
    params: Params | Sequence[Params],
    many: bool,
) -> Done:
    result = await conn.execute(statement, list(params) if many else params)  # type: ignore[arg-type]
    rows = [dict(r) for r in result.mappings()] if result.returns_rows else []
    return Done(result.rowcount, rows)
