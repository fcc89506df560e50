"""Whether an error means the database cannot be used right now, as opposed to a bug.

Callers answer such errors as "try again shortly" (HTTP 503 with ``Retry-After``) instead of an
internal error: the server is refused or unreachable, the connection dropped, the pool timed out,
SQLite cannot open or lock its file, or PostgreSQL reports a connection, resource or
operator-intervention condition (SQLSTATE classes 08, 53 and 57P, and 3D000 for a dropped
database).
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy.exc as sa_exc

_SQLSTATE_PREFIXES = ("08", "53", "57P", "3D000")
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, unreachable, name not resolved, timed out
    sa_exc.OperationalError,  # SQLite: unable to open, locked, disk I/O; PostgreSQL: connection
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, the driver error it wraps, and its causes (a few levels at most)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(seen) < 8:
        error = pending.pop()
        if error is None or any(error is known for known in seen):
            continue
        seen.append(error)
        yield error
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what it wraps) says the database is unreachable or overloaded."""
    for error in _chain(exc):
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
            return True
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str) and state.startswith(_SQLSTATE_PREFIXES):
            return True
    return False
