"""Editing people's contact methods and rules: stored edits over the policy file's people.

The policy file is the base; an edit kept in the database (``uow.people``) wins
(:mod:`tocsin.domain.person_edits`). An admin may edit anyone, a person themself (any of their
ids) only themself; refusals are audited. Each edit is checked by the policy file's own people
parser before it is stored, and audited with the contact URLs masked: a URL carries tokens and
never appears in full in an answer, a log line or the audit log. Paging, the Apprise sender and
``tocsin page test`` read the people through :func:`~tocsin.services.people.current`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from tocsin.domain.errors import NotFound, PolicyError
from tocsin.domain.model import Actor
from tocsin.domain.notify import Person, find_person, mask_url
from tocsin.domain.notify.paging import contact_destination
from tocsin.domain.person_edits import PersonEdit, apply_edit
from tocsin.domain.policy import Policy
from tocsin.services.context import Context
from tocsin.services.people import current
from tocsin.services.pipeline import audit_record, deny

__all__ = ["current", "find", "list_people", "remove_contact", "set_contact", "set_rule"]

log = structlog.get_logger("tocsin.people")
_COMMAND = "person"


def _lookup(people: Sequence[Person], key: str) -> Person:
    found = find_person(people, key) or next((p for p in people if p.name == key), None)
    if found is None:
        raise NotFound(f"no [[person]] {key!r} in the policy file (use their id, also or name)")
    return found


async def list_people(ctx: Context) -> tuple[Person, ...]:
    async with ctx.uow(read_only=True) as uow:
        return await current(uow, ctx.policy)


async def find(ctx: Context, key: str) -> Person:
    """The person known as ``key`` (id, one of ``also``, or name), edits applied."""
    return _lookup(await list_people(ctx), key)


async def _edit(
    ctx: Context, actor: Actor, key: str, what: str, change: Callable[[PersonEdit], PersonEdit]
) -> Person:
    """Apply ``change`` to the stored edit of ``key``'s person, check it and store it."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        base = _lookup(ctx.policy.people, key)
        if not ctx.policy.is_admin(actor) and actor.key not in base.ids:
            reason = "Only an admin or the person themself may change their contact methods."
            raise await deny(uow, actor, _COMMAND, None, reason, now, f"{base.id}: {what}")
        edit = change((await uow.people.edits()).get(base.id) or PersonEdit(base.id))
        person = apply_edit(base, edit)
        await uow.people.save(edit, actor.key, now)
        await uow.audit.append(audit_record(actor, _COMMAND, None, "ok", "", now,
                                            f"{base.id}: {what}"))  # fmt: skip
        await uow.commit()
    log.info("person edited", person=base.id, by=actor.key, change=what)
    return person


def _check_kind(policy: Policy, url: str) -> None:
    """Refuse an Apprise URL of a kind the policy file has none of: the workers start one
    sender per kind found there (``platforms/apprise``), so it would have none."""
    kind = contact_destination(url) if "://" in url else None  # else the parser says why
    kinds = {contact_destination(u) for p in policy.people for u in p.contacts.values()}
    if kind is not None and kind not in kinds:
        known = ", ".join(sorted(k.split(":", 1)[1] for k in kinds if k)) or "none"
        scheme = kind.split(":", 1)[1]
        what = f"no worker sends {scheme}:// contacts (kinds in the policy file: {known}, mailto:)"
        raise PolicyError([f"person.contacts: {what}"])


async def set_contact(ctx: Context, actor: Actor, key: str, name: str, url: str) -> Person:
    """Add or replace contact ``name`` of the person."""
    _check_kind(ctx.policy, url)
    what = f"contact {name} = {mask_url(url)}"
    return await _edit(ctx, actor, key, what, lambda e: e.set_contact(name, url))


async def remove_contact(ctx: Context, actor: Actor, key: str, name: str) -> Person:
    """Remove contact ``name`` (refused while a rule still names it)."""
    person = await find(ctx, key)
    if name not in person.contacts:
        known = ", ".join(person.contacts) or "none"
        raise NotFound(f"{person.id} has no contact {name!r} (known: {known})")
    return await _edit(ctx, actor, key, f"contact {name} removed",
                       lambda e: e.set_contact(name, None))  # fmt: skip


async def set_rule(
    ctx: Context, actor: Actor, key: str, which: str, steps: Sequence[str]
) -> Person:
    """Replace the person's ``default`` or ``urgent`` rule by ``steps``."""
    what = f"{which}_rule = {list(steps)}"
    return await _edit(ctx, actor, key, what, lambda e: e.set_rule(which, steps))
