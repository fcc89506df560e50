"""Who holds a claim: the worker ids this process runs, and whether another's process is gone.

A worker id is ``host:pid:random``. On SQLite, where one process delivers, a starting service
takes back the rows whose holder is gone (:func:`is_gone`) at once, instead of waiting for their
claims to run out: the holder ran on this host and its process no longer exists, or it had this
very process id (a container restarted in place) without being one of this process's services.
Claims of another host, or of a live process, are left to run out by themselves.
"""

from __future__ import annotations

import os
import socket
import uuid

RUNNING: set[str] = set()  # worker ids of the delivery services running in this process


def host() -> str:
    return socket.gethostname()[:60]


def new_worker_id() -> str:
    return f"{host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_gone(worker_id: str) -> bool:
    """True when no running process can be renewing ``worker_id``'s claims."""
    if worker_id in RUNNING:
        return False
    parts = worker_id.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return True  # not an id this code makes, and no service here runs under it
    if parts[0] != host():
        return False  # another machine's: its claims run out after three missed heartbeats
    pid = int(parts[1])
    if pid == os.getpid():
        return True  # an earlier process with this pid (restarted in place)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
