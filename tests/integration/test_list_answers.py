"""``list`` served from memory: fresh after this process's changes, and after another's."""

from __future__ import annotations

from tocsin.domain.commands import parse
from tocsin.domain.model import Actor
from tocsin.domain.policy import default_policy
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.storage.db import Database

ALICE = Actor("slack", "U1", "alice")


async def test_a_change_here_shows_in_the_next_list(db: Database) -> None:
    """Declare, resolve and re-declare in one process: each following list reflects it, though
    the answers in between came from memory."""
    ctx = Context(db=db, policy=default_policy())
    assert (await execute(ctx, ALICE, parse("list"))).message == "No open incidents."
    await execute(ctx, ALICE, parse('declare "Checkout down" P2'))
    assert (
        "INC-1 [P2] investigating: Checkout down"
        in (await execute(ctx, ALICE, parse("list"))).message
    )
    await execute(ctx, ALICE, parse("severity INC-1 P1"))
    assert "INC-1 [P1]" in (await execute(ctx, ALICE, parse("list"))).message


async def test_another_processes_change_shows_after_the_recheck(db: Database) -> None:
    """A change made through another Context (another process: the CLI, a replica) is not
    seen before the recheck interval, and is seen once it has passed."""
    here = Context(db=db, policy=default_policy())
    now = [100.0]
    here.lists.clock = lambda: now[0]
    there = Context(db=db, policy=default_policy())
    assert (await execute(here, ALICE, parse("list"))).message == "No open incidents."
    await execute(there, ALICE, parse('declare "Checkout down" P2'))
    assert (await execute(here, ALICE, parse("list"))).message == "No open incidents."
    now[0] += here.lists.recheck
    assert "INC-1" in (await execute(here, ALICE, parse("list"))).message
