"""``tocsin page test PERSON``, the real console script against local fakes: one line per
contact method with its URL masked and ``ok`` or the error, exit 1 when one failed, 0 when all
worked, 2 for someone the policy file does not know; mail contacts get a real test mail (aiosmtpd
on 127.0.0.1), or fail when mail is not set up."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from fakes.http_fake import FakeServer, Reply
from fakes.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

TOCSIN = Path(sys.executable).with_name("tocsin")
TOKEN = "tk_9f8e7d6c5b4a"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def page_test(
    tmp_path: Path,
    fake: FakeServer,
    person: str,
    broken: bool,
    smtp: SmtpServer | None = None,
    edits: Sequence[Sequence[str]] = (),
) -> subprocess.CompletedProcess[str]:
    """``tocsin page test person`` on a migrated database, after the ``tocsin person``
    commands ``edits`` (each must succeed)."""
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    hook = "/broken" if broken else "/hook"
    (tmp_path / "policy.toml").write_text(
        f"""
[[person]]
id = "slack:U0ALICE"
name = "alice"
[person.contacts]
phone = "ntfy://127.0.0.1:{port}/alice?token={TOKEN}"
hook = "json://127.0.0.1:{port}{hook}"
mail = "mailto:alice@example.com"
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env["TOCSIN_POLICY_FILE"] = str(tmp_path / "policy.toml")
    env["TOCSIN_DATA_DIR"] = str(tmp_path / "data")
    if smtp is not None:
        env["TOCSIN_SMTP_URL"] = smtp.url("tocsin:smtp-pass-123")
        env["TOCSIN_SMTP_FROM"] = "tocsin <pager@example.test>"

    def tocsin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TOCSIN), *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    for command in (("db", "upgrade"), *(("person", *edit) for edit in edits)):
        done = tocsin(*command)
        assert done.returncode == 0, done.stdout + done.stderr
    return tocsin("page", "test", person, "--timeout", "20")


def test_page_test_reports_each_method_and_fails_when_one_does(
    tmp_path: Path, fake: FakeServer
) -> None:
    """ntfy answers, the webhook answers 500, mail is not set up: a line per method (Slack DM
    listed, not sent), the ntfy token masked, each failure with its reason, exit status 1; both
    fakes were really called."""
    fake.route("POST", "/broken", Reply(500, body="down for maintenance"))
    done = page_test(tmp_path, fake, "slack:U0ALICE", broken=True)
    lines = done.stdout.splitlines()
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    assert done.returncode == 1, done.stderr
    assert lines[0] == "slack: slack direct message: not tested here"
    assert lines[1] == f"phone: ntfy://127.0.0.1:{port}/alice?token=****: ok"
    assert lines[2].startswith(f"hook: json://127.0.0.1:{port}/broken: FAILED: Apprise could not")
    assert lines[3] == (
        "mail: mailto:alice@example.com: FAILED: mail is off (set TOCSIN_SMTP_URL and "
        "TOCSIN_SMTP_FROM)"
    )
    assert TOKEN not in done.stdout + done.stderr
    assert len(fake.requests_to("/")) == 1
    assert len(fake.requests_to("/broken")) == 1


def test_page_test_exits_zero_when_every_method_works(tmp_path: Path, fake: FakeServer) -> None:
    """Found by name; every method answered, the test mail reached the SMTP server (logged in,
    addressed to Alice): exit 0, every sent line says ok, the SMTP password never printed."""
    with SmtpServer(users={"tocsin": "smtp-pass-123"}) as smtp:
        done = page_test(tmp_path, fake, "alice", broken=False, smtp=smtp)
        received = smtp.mailbox.to("alice@example.com")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.rsplit(": ", 1)[1] for line in done.stdout.splitlines()[1:4]] == ["ok"] * 3
    assert [str(m["Subject"]) for m in received] == ["tocsin test notification"]
    assert "smtp-pass-123" not in done.stdout + done.stderr


def test_a_refused_test_mail_is_reported_with_the_server_reply(
    tmp_path: Path, fake: FakeServer
) -> None:
    """The SMTP server refuses Alice's address: the mail line says FAILED with the code, the
    others stay ok, exit 1."""
    with SmtpServer(users={"tocsin": "smtp-pass-123"}) as smtp:
        smtp.mailbox.refuse["alice@example.com"] = "550 5.1.1 No such user"
        done = page_test(tmp_path, fake, "alice", broken=False, smtp=smtp)
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stderr
    assert lines[3].startswith("mail: mailto:alice@example.com: FAILED: SMTP 550")
    assert lines[1].endswith(": ok")


def test_page_test_of_an_unknown_person_is_a_clear_error(tmp_path: Path, fake: FakeServer) -> None:
    """Someone not in the policy file: one line on stderr, exit 2, nothing sent."""
    done = page_test(tmp_path, fake, "slack:U0NOBODY", broken=False)
    assert done.returncode == 2
    assert "no [[person]] 'slack:U0NOBODY'" in done.stderr
    assert fake.requests == []


def test_page_test_tests_the_contacts_as_edited(tmp_path: Path, fake: FakeServer) -> None:
    """Contacts changed with ``tocsin person`` (stored edits) are the ones tested, as paging
    would use them: the policy file's broken hook replaced by a working one is ok (the broken
    URL never called) and a contact added only in the database is tested too."""
    port = fake.url.rstrip("/").rsplit(":", 1)[1]
    fake.route("POST", "/broken", Reply(500, body="down for maintenance"))
    edits = [
        ("set-contact", "alice", "hook", f"json://127.0.0.1:{port}/hook"),
        ("set-contact", "alice", "pager", f"ntfy://127.0.0.1:{port}/stored?token={TOKEN}"),
    ]
    done = page_test(tmp_path, fake, "alice", broken=True, edits=edits)
    lines = done.stdout.splitlines()
    assert f"hook: json://127.0.0.1:{port}/hook: ok" in lines, done.stdout + done.stderr
    assert f"pager: ntfy://127.0.0.1:{port}/stored?token=****: ok" in lines
    assert fake.requests_to("/broken") == []
    assert len(fake.requests_to("/hook")) == 1
    topics = [r.json().get("topic") for r in fake.requests_to("/")]
    assert sorted(topics) == ["alice", "stored"]
    assert TOKEN not in done.stdout + done.stderr
