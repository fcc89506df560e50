"""The dashboard's My contacts page against the real database and app: a signed-in user who is
a ``[[person]]`` (their ``also`` lists ``web:<username>``) sees their contacts masked and their
rules, and sets or removes a contact and sets a rule through CSRF-checked forms that run the
people's use cases as themself; bad edits name the field and change nothing."""

from __future__ import annotations

import httpx
import pytest

from conftest import Clock
from integration.test_api_dashboard import client, csrf_of, quick_hashes, sign_in, users
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.services import person_edits
from tocsin.services.context import Context
from tocsin.storage.db import Database

__all__ = ["client", "quick_hashes", "users"]  # the dashboard tests' fixtures, used here too
ALICE, BOB = "slack:U0ALICE", "slack:U0BOB"
TOKEN = "tk_secret_42"
POLICY = parse_policy(
    {
        "escalation": [{"name": "default", "levels": [[ALICE]]}],
        "person": [
            {
                "id": ALICE,
                "also": ["web:alice"],
                "name": "alice",
                "contacts": {"phone": f"ntfy://ntfy.example.com/alice?token={TOKEN}"},
                "urgent_rule": ["slack", "phone after 5m"],
            },
            {"id": BOB, "also": ["web:bob"], "name": "bob"},
        ],
    }
)


@pytest.fixture
def ctx(db: Database, clock: Clock) -> Context:
    """The services context with a policy file whose people are dashboard users too."""
    return Context(db=db, policy=POLICY, clock=clock)


async def _alice(ctx: Context) -> dict[str, str]:
    return dict((await person_edits.find(ctx, ALICE)).contacts)


async def test_alice_sets_and_removes_a_contact_and_sets_a_rule(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """Alice's page shows her contact masked (the token never in the HTML) and her rules; she
    sets a contact with a token (stored, shown masked), removes it and sets her urgent rule;
    the edits are audited as web:alice."""
    await sign_in(client, "alice")
    html = (await client.get("/me/contacts")).text
    assert "My contacts" in html
    assert "ntfy://ntfy.example.com/alice?token=****" in html
    assert TOKEN not in html
    assert "slack, phone after 5m" in html
    token = await csrf_of(client, "/me/contacts")
    url = f"ntfy://ntfy.example.com/pager?token={TOKEN}"
    done = await client.post("/me/contacts/set", data={"csrf": token, "name": "pager", "url": url})
    assert (done.status_code, done.headers["location"]) == (303, "/me/contacts")
    assert (await _alice(ctx))["pager"] == url
    html = (await client.get("/me/contacts")).text
    assert "Contact pager is set." in html
    assert "ntfy://ntfy.example.com/pager?token=****" in html
    assert TOKEN not in html
    await client.post("/me/contacts/remove", data={"csrf": token, "name": "pager"})
    assert "pager" not in await _alice(ctx)
    assert "Contact pager is removed." in (await client.get("/me/contacts")).text
    rule = {"csrf": token, "which": "urgent", "steps": "phone, slack after 10m"}
    await client.post("/me/contacts/rule", data=rule)
    alice = await person_edits.find(ctx, ALICE)
    assert [str(s) for s in alice.urgent_rule] == ["phone", "slack after 10m"]
    assert "phone, slack after 10m" in (await client.get("/me/contacts")).text
    async with ctx.uow(read_only=True) as uow:
        records = [e.record async for e in uow.audit.entries()]
    mine = [r for r in records if r.command == "person" and r.actor_id == "alice"]
    assert len(mine) == 3
    assert all(r.platform == "web" for r in mine)


async def test_bad_url_or_step_names_the_field_and_changes_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """A malformed URL and a step naming an unknown contact each show the domain's error with
    the field's name; alice's contacts and rules stay as the policy file says."""
    await sign_in(client, "alice")
    token = await csrf_of(client, "/me/contacts")
    bad = {"csrf": token, "name": "pager", "url": "not a url"}
    assert (await client.post("/me/contacts/set", data=bad)).status_code == 303
    assert "person.contacts" in (await client.get("/me/contacts")).text
    bad = {"csrf": token, "which": "default", "steps": "nowhere after 5m"}
    assert (await client.post("/me/contacts/rule", data=bad)).status_code == 303
    assert "person.default_rule" in (await client.get("/me/contacts")).text
    alice = await person_edits.find(ctx, ALICE)
    assert dict(alice.contacts) == dict(POLICY.people[0].contacts)
    assert alice.default_rule == POLICY.people[0].default_rule


async def test_bob_cannot_edit_alice_and_forged_forms_change_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    """Bob's page is his own (alice's contact is not on it) and his forms edit only him; a form
    without the CSRF token is 403; a user who is no person gets a page saying so, and their
    forms are refused; alice is unchanged."""
    await sign_in(client, "bob")
    html = (await client.get("/me/contacts")).text
    assert "ntfy.example.com/alice" not in html
    token = await csrf_of(client, "/me/contacts")
    url = "mailto:bob@example.test"
    await client.post("/me/contacts/set", data={"csrf": token, "name": "phone", "url": url})
    bob = await person_edits.find(ctx, BOB)
    assert dict(bob.contacts) == {"phone": url}
    forged = {"name": "mail", "url": "mailto:x@example.test"}
    assert (await client.post("/me/contacts/set", data=forged)).status_code == 403
    assert (await client.post("/me/contacts/remove", data={"name": "phone"})).status_code == 403
    assert dict((await person_edits.find(ctx, BOB)).contacts) == {"phone": url}
    await client.post("/logout", data={"csrf": token})
    await sign_in(client, "root")
    assert "not one of the policy file" in (await client.get("/me/contacts")).text
    token = await csrf_of(client, "/me/contacts")
    refused = await client.post("/me/contacts/remove", data={"csrf": token, "name": "phone"})
    assert refused.status_code == 403
    assert await _alice(ctx) == dict(POLICY.people[0].contacts)


async def test_the_dashboard_user_is_the_person_themself_and_no_one_else(ctx: Context) -> None:
    """The actor the page edits with (web:bob) may edit bob, since bob's also lists it, but is
    refused on alice, and the refusal is audited; alice is unchanged."""
    web_bob = Actor("web", "bob", "bob")
    await person_edits.set_contact(ctx, web_bob, BOB, "mail", "mailto:bob@example.test")
    with pytest.raises(PermissionDenied):
        await person_edits.set_contact(ctx, web_bob, ALICE, "mail", "mailto:bob@example.test")
    assert await _alice(ctx) == dict(POLICY.people[0].contacts)
    async with ctx.uow(read_only=True) as uow:
        records = [e.record async for e in uow.audit.entries()]
    assert len([r for r in records if r.command == "person"]) == 2
