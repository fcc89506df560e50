"""Slack request signatures, checked with an injected clock against Slack's documented example
(``signing/docs_example_signed_slash_command.json``, clock 1531420618) and the generated vectors
(``generated/slack_hmac_vectors.json``, clock 1700000000): valid inside the 5-minute window,
refused outside it, refused when anything is tampered with, and never an exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tocsin.platforms.slack.verify import SlackVerifier


def load(fixtures_dir: Path, name: str) -> Any:
    return json.loads((fixtures_dir / name).read_text())


def headers(timestamp: str, signature: str) -> dict[str, str]:
    return {"x-slack-request-timestamp": timestamp, "x-slack-signature": signature}


def test_docs_example_verifies_at_its_own_time(fixtures_dir: Path) -> None:
    """Slack's documented example is valid with the clock at 1531420618."""
    case = load(fixtures_dir, "slack/signing/docs_example_signed_slash_command.json")
    verifier = SlackVerifier(case["signing_secret"], clock=lambda: case["clock_now_for_test"])
    body = case["body"].encode()
    assert verifier.verify(body, headers(case["timestamp"], case["x_slack_signature"]))
    assert verifier.sign(body, case["timestamp"]) == case["x_slack_signature"]


def test_docs_example_is_refused_outside_the_five_minute_window(fixtures_dir: Path) -> None:
    """300 s late is still fine; 301 s late or early is a replay and refused."""
    case = load(fixtures_dir, "slack/signing/docs_example_signed_slash_command.json")
    now = int(case["timestamp"])
    sig = headers(case["timestamp"], case["x_slack_signature"])
    body = case["body"].encode()
    assert SlackVerifier(case["signing_secret"], clock=lambda: now + 300).verify(body, sig)
    assert not SlackVerifier(case["signing_secret"], clock=lambda: now + 301).verify(body, sig)
    assert not SlackVerifier(case["signing_secret"], clock=lambda: now - 301).verify(body, sig)


def test_generated_vectors_verify_at_1700000000(fixtures_dir: Path) -> None:
    """Every generated case is valid on its raw bytes with the clock fixed at 1700000000."""
    vectors = load(fixtures_dir, "generated/slack_hmac_vectors.json")
    verifier = SlackVerifier(vectors["signing_secret"], clock=lambda: 1700000000)
    assert len(vectors["cases"]) >= 4
    for case in vectors["cases"]:
        sig = headers(case["x_slack_request_timestamp"], case["x_slack_signature"])
        assert verifier.verify(case["body"].encode(), sig), case["name"]


def test_tampering_with_any_part_is_refused(fixtures_dir: Path) -> None:
    """A changed body byte, timestamp, signature or secret fails verification."""
    vectors = load(fixtures_dir, "generated/slack_hmac_vectors.json")
    case = vectors["cases"][0]
    body, ts, sig = (
        case["body"].encode(),
        case["x_slack_request_timestamp"],
        case["x_slack_signature"],
    )
    good = SlackVerifier(vectors["signing_secret"], clock=lambda: 1700000000)
    assert not good.verify(body + b" ", headers(ts, sig))
    assert not good.verify(body, headers(str(int(ts) + 1), sig))
    assert not good.verify(body, headers(ts, sig[:-1] + ("0" if sig[-1] != "0" else "1")))
    wrong = SlackVerifier("another-secret", clock=lambda: 1700000000)
    assert not wrong.verify(body, headers(ts, sig))


@pytest.mark.parametrize(
    "found",
    [
        {},
        {"x-slack-request-timestamp": "1700000000"},
        {"x-slack-signature": "v0=00"},
        headers("not-a-number", "v0=00"),
        headers("1700000000", "v0=ü-non-ascii"),
        headers("1700000000", "sha256=abc"),
        headers("", ""),
    ],
)
def test_missing_or_garbled_headers_are_refused_without_an_exception(
    found: dict[str, str],
) -> None:
    """Absent, non-numeric or non-ASCII header values make verify() False, never raise."""
    verifier = SlackVerifier("secret", clock=lambda: 1700000000)
    assert verifier.verify(b"token=x", found) is False
