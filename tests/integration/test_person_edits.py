"""People edited through ``tocsin person`` and the people's service, on the real database: the
edit is stored (the policy file stays as it is) and wins when paging, contact URLs are masked in
every answer, bad edits are refused with the field named and change nothing, and only an admin
or the person themself may edit."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import Clock
from tocsin.adapters.cli.people import person
from tocsin.adapters.web.api.mount import access_routes
from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.app import wire_subscribers
from tocsin.config import load_settings
from tocsin.delivery.base import Delivery, Skip
from tocsin.delivery.timers import TimerHandlers, TimerRunner
from tocsin.delivery.wake import Wakeup
from tocsin.domain.commands import parse
from tocsin.domain.errors import PermissionDenied
from tocsin.domain.model import Actor
from tocsin.domain.policy_file import parse_policy
from tocsin.observability.metrics import create_metrics
from tocsin.platforms.apprise.sender import build_apprise_senders
from tocsin.services import person_edits
from tocsin.services.access.tokens import create_token
from tocsin.services.context import Context
from tocsin.services.dispatch import execute
from tocsin.services.paging import Paging, PagingConfig
from tocsin.services.people import current
from tocsin.storage.db import Database
from tocsin.storage.outbox import OutboxStore

ALICE, BOB = "slack:U0ALICE", "slack:U0BOB"
TOKEN = "tk_secret_42"
POLICY_TOML = f"""
[[escalation]]
name = "default"
levels = [["{ALICE}"]]

[[person]]
id = "{ALICE}"
name = "alice"
contacts = {{ phone = "ntfy://ntfy.example.com/alice?token={TOKEN}" }}
urgent_rule = ["slack", "phone after 5m"]

[[person]]
id = "{BOB}"
name = "bob"
"""
POLICY = parse_policy(
    {
        "escalation": [{"name": "default", "levels": [[ALICE]]}],
        "person": [
            {
                "id": ALICE,
                "name": "alice",
                "contacts": {"phone": f"ntfy://ntfy.example.com/alice?token={TOKEN}"},
                "urgent_rule": ["slack", "phone after 5m"],
            },
            {"id": BOB},
        ],
    }
)


@pytest.fixture
def cli_home(cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI's database and working directory, with POLICY_TOML as its policy file."""
    (tmp_path / "policy.toml").write_text(POLICY_TOML)
    monkeypatch.setenv("TOCSIN_POLICY_FILE", str(tmp_path / "policy.toml"))
    return tmp_path


def test_cli_sets_a_contact_and_a_rule_and_shows_them_masked(cli_home: Path) -> None:
    """`set-contact` with a token in the URL, then `set-rule`: `show` and `list --json` give
    the new contact and rule, the tokens masked everywhere; the policy file is unchanged."""
    runner = CliRunner()
    hook = f"json://hooks.example.com/alice?token={TOKEN}"
    done = runner.invoke(person, ["set-contact", "alice", "phone", hook.replace("json", "ntfy")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(person, ["set-contact", "alice", "mail", "mailto:alice@example.test"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(person, ["set-rule", ALICE, "urgent", "slack", "mail after 10m"])
    assert done.exit_code == 0, done.output
    assert "urgent_rule: slack, mail after 10m" in done.output
    shown = runner.invoke(person, ["show", "alice"]).output
    assert "contact mail: mailto:alice@example.test" in shown
    listed = json.loads(runner.invoke(person, ["list", "--json"]).output)["items"]
    assert listed[0]["urgent_rule"] == ["slack", "mail after 10m"]
    assert listed[0]["contacts"]["phone"] == "ntfy://hooks.example.com/alice?token=****"
    assert listed[1]["id"] == BOB
    everything = shown + json.dumps(listed) + done.output
    assert TOKEN not in everything
    assert (cli_home / "policy.toml").read_text() == POLICY_TOML


def test_cli_refuses_bad_edits_and_changes_nothing(cli_home: Path) -> None:
    """A malformed URL, a rule naming an unknown contact, removing a contact a rule uses, an
    Apprise kind no worker sends, an unknown person: one line naming the problem, non-zero
    exit, and the person as before."""
    runner = CliRunner()
    before = runner.invoke(person, ["list", "--json"]).output
    cases = [
        (["set-contact", "alice", "mail", "not a url"], "person.contacts.mail"),
        (["set-rule", "alice", "urgent", "pager"], 'unknown contact "pager"'),
        (["remove-contact", "alice", "phone"], 'unknown contact "phone"'),
        (["remove-contact", "alice", "fax"], "has no contact 'fax'"),
        (["set-contact", "alice", "tg", "tgram://bot/chat"], "no worker sends tgram://"),
        (["show", "slack:U0NOBODY"], "no [[person]] 'slack:U0NOBODY'"),
    ]
    for args, problem in cases:
        done = runner.invoke(person, args)
        assert done.exit_code != 0, args
        assert problem in done.output, (args, done.output)
    assert runner.invoke(person, ["list", "--json"]).output == before


async def test_a_stored_edit_wins_when_paging(db: Database, clock: Clock) -> None:
    """Alice's urgent rule changed to a mail after 10 minutes (through the service, as the
    CLI does): a P1 queues her mail at 10 minutes, and the ntfy step of the policy file is
    not sent."""
    ctx = Context(db=db, policy=POLICY, clock=clock, destinations={"slack"})
    root = Actor("cli", "root", "root")
    await person_edits.set_contact(ctx, root, "alice", "mail", "mailto:alice@example.test")
    await person_edits.set_rule(ctx, root, ALICE, "urgent", ["slack", "mail after 10m"])
    config = PagingConfig(POLICY, frozenset({"slack", "email"}))
    handlers = Paging(config).register(TimerHandlers())
    timers = TimerRunner(db, handlers, Wakeup(), worker_id="w1", clock=clock)
    await execute(ctx, Actor("slack", "U0CAROL", "carol"), parse("declare Checkout is down P1"))
    for _ in range(3):
        await timers.fire_due()
        clock.advance(minutes=5)
    async with db.engine.connect() as conn:
        rows = await OutboxStore(conn).rows(limit=1000)
    sent = sorted(
        (r.destination, r.kind) for r in rows if r.kind in ("page_dm", "notify", "page_mail")
    )
    assert sent == [("email", "page_mail"), ("slack", "page_dm")]
    [mail] = [r for r in rows if r.kind == "page_mail"]
    assert mail.payload["mail"]["to"] == "alice@example.test"


async def test_only_an_admin_or_the_person_may_edit(db: Database, clock: Clock) -> None:
    """Bob may not change Alice's contacts (refused, audited, nothing stored); Alice may change
    her own."""
    ctx = Context(db=db, policy=POLICY, clock=clock)
    with pytest.raises(PermissionDenied):
        await person_edits.set_rule(
            ctx, Actor("slack", "U0BOB", "bob"), "alice", "urgent", ["slack"]
        )
    assert (await person_edits.find(ctx, ALICE)).urgent_rule == POLICY.people[0].urgent_rule
    changed = await person_edits.set_rule(ctx, Actor("slack", "U0ALICE", "a"), ALICE, "urgent",
                                          ["phone"])  # fmt: skip
    assert [s.contact for s in changed.urgent_rule] == ["phone"]
    async with ctx.uow(read_only=True) as uow:
        assert [s.contact for s in (await current(uow, POLICY))[0].urgent_rule] == ["phone"]


async def test_the_api_edits_people_with_urls_masked(db: Database, clock: Clock) -> None:
    """PUT a contact (admin token): 200 with the person, the URL's token masked, and GET
    /v1/people shows the edit; PUT the rule; a bad URL is 422 naming the field and stores
    nothing; a read token and a write token that is neither admin nor the person get 403; an
    unknown person 404; DELETE removes the contact once no rule names it."""
    ctx = Context(db=db, policy=POLICY, clock=clock, public_url="https://tocsin.test")
    root = Actor("cli", "root", "root")
    tokens = {s: (await create_token(ctx, root, s, s))[1] for s in ("read", "write", "admin")}
    routes = access_routes(ctx, secret="k" * 40, secure_cookies=False)
    app = create_app(ctx, create_metrics(process=False), Runtime(), routes=routes)
    transport = httpx.ASGITransport(app=app)
    base = "/api/v1/people/slack:U0ALICE"
    hook = f"ntfy://ntfy.example.com/alice-2?token={TOKEN}"

    def auth(scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[scope]}"}

    async with httpx.AsyncClient(transport=transport, base_url="https://tocsin.test") as client:
        put = await client.put(f"{base}/contacts/pager", json={"url": hook}, headers=auth("admin"))
        assert put.status_code == 200, put.text
        assert put.json()["contacts"]["pager"] == "ntfy://ntfy.example.com/alice-2?token=****"
        rule = await client.put(
            f"{base}/rules/urgent", json={"steps": ["pager"]}, headers=auth("admin")
        )
        assert rule.status_code == 200, rule.text
        assert rule.json()["urgent_rule"] == ["pager"]
        listed = await client.get("/api/v1/people", headers=auth("read"))
        bad = await client.put(f"{base}/contacts/mail", json={"url": "nope"}, headers=auth("admin"))
        refused = [
            await client.put(f"{base}/contacts/x", json={"url": hook}, headers=auth(s))
            for s in ("read", "write")
        ]
        missing = await client.put(
            "/api/v1/people/slack:U0NOBODY/contacts/x", json={"url": hook}, headers=auth("admin")
        )
        in_use = await client.delete(f"{base}/contacts/pager", headers=auth("admin"))
        await client.put(f"{base}/rules/urgent", json={"steps": ["slack"]}, headers=auth("admin"))
        gone = await client.delete(f"{base}/contacts/pager", headers=auth("admin"))
    assert listed.json()["items"][0]["contacts"]["pager"].endswith("token=****")
    assert bad.status_code == 422  # the API's "invalid" problem (a body of the wrong shape: 400)
    assert "person.contacts.mail" in bad.text
    assert [r.status_code for r in refused] == [403, 403]
    assert missing.status_code == 404
    assert in_use.status_code == 422
    assert 'unknown contact "pager"' in in_use.json()["detail"]
    assert gone.status_code == 200, gone.text
    assert "pager" not in gone.json()["contacts"]
    everything = put.text + rule.text + listed.text + bad.text + in_use.text + gone.text
    assert TOKEN not in everything


class _NoRefs:
    def get(self, name: str) -> str | None:
        return None


NO_REFS = _NoRefs()


async def test_the_apprise_sender_notifies_the_edited_url(db: Database, clock: Clock) -> None:
    """Wired as the composition root wires it, the ntfy sender notifies the URL of the stored
    edit, not the policy file's; a contact removed by an edit is a Skip."""
    ctx = Context(db=db, policy=POLICY, clock=clock)
    sent: list[str] = []

    async def notify(url: str, title: str, body: str, *, within: float) -> None:
        sent.append(url)

    [sender] = build_apprise_senders(load_settings({}, env_file=None), POLICY).values()
    sender._send = notify
    wire_subscribers(load_settings({}, env_file=None), ctx, {sender.destination: sender})
    root = Actor("cli", "root", "root")
    edited = "ntfy://ntfy.example.com/alice-new"
    await person_edits.set_contact(ctx, root, ALICE, "phone", edited)
    row = Delivery(1, 1, "apprise:ntfy", "notify", {"person": ALICE, "contact": "phone"}, "k", 0)
    await sender.send(row, NO_REFS)
    assert sent == [edited]
    await person_edits.set_rule(ctx, root, ALICE, "urgent", ["slack"])
    await person_edits.remove_contact(ctx, root, ALICE, "phone")
    with pytest.raises(Skip):
        await sender.send(row, NO_REFS)
