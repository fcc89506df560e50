"""Whether the process behind a worker id is gone: what a service starting on SQLite takes
back at once, and what it leaves to claims running out."""

from __future__ import annotations

import os
import subprocess
import sys

from tocsin.delivery import holders


def worker_id(pid: int, host: str | None = None) -> str:
    return f"{host or holders.host()}:{pid}:0123abcd"


def test_a_reaped_process_on_this_host_is_gone() -> None:
    """A worker id whose pid no longer exists here is gone."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert holders.is_gone(worker_id(child.pid))


def test_a_live_process_and_a_running_service_are_not_gone() -> None:
    """A live pid on this host (the parent), or a service registered as running here, is
    alive; this process's own pid without a registered service is an earlier life, gone."""
    assert not holders.is_gone(worker_id(os.getppid()))
    mine = worker_id(os.getpid())
    assert holders.is_gone(mine)
    holders.RUNNING.add(mine)
    try:
        assert not holders.is_gone(mine)
    finally:
        holders.RUNNING.discard(mine)


def test_another_host_is_left_alone_and_a_foreign_id_is_gone() -> None:
    """Another machine's claim is not judged here (it runs out by itself); an id this code
    never makes, with no service running under it, is gone."""
    assert not holders.is_gone(worker_id(1, host="elsewhere.example"))
    assert holders.is_gone("dead")
    assert holders.new_worker_id().startswith(f"{holders.host()}:{os.getpid()}:")
