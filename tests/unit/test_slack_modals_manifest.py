"""Slack modals (declare and update: building, reading, validation, the double-submit key) and
the app manifest ``tocsin slack manifest`` prints."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tocsin.adapters.slack.manifest import build_manifest, render
from tocsin.adapters.slack.modals import (
    declare_view,
    read_declare,
    read_update,
    submission_key,
    update_view,
)
from tocsin.chat.messages import DeclareForm
from tocsin.domain.commands import Mention
from tocsin.domain.model import Severity
from tocsin.domain.validation import Declaration


def submitted(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``view`` as Slack sends it back on submit, with ``values`` by block_id."""
    return {
        **view,
        "id": "V123",
        "hash": "1.abc",
        "state": {"values": {block: {"value": v} for block, v in values.items()}},
    }


def test_declare_view_is_prefilled_from_what_was_typed() -> None:
    """Severity and commander typed after `declare` preselect the form's fields."""
    view = declare_view(
        DeclareForm(severity=Severity.P2, commander=Mention("UBOB")), Severity.P3, channel_id="C1"
    )
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert set(blocks) == {"title", "severity", "description", "commander"}
    assert blocks["severity"]["element"]["initial_option"]["value"] == "P2"
    assert blocks["commander"]["element"]["initial_user"] == "UBOB"
    assert json.loads(view["private_metadata"]) == {"channel": "C1"}
    assert len(view["title"]["text"]) <= 24
    typed = declare_view(DeclareForm(commander=Mention("bob")), Severity.P3)
    assert "initial_user" not in typed["blocks"][3]["element"]  # a plain @name is not a user id


def test_declare_submission_is_read_or_refused_field_by_field() -> None:
    """A missing title and an unknown severity come back as errors under their fields; a
    missing severity is no error (the policy's default applies); good input is read."""
    view = declare_view(DeclareForm(), Severity.P3)
    unknown = {"selected_option": {"value": "P9"}}
    errors = read_declare(submitted(view, {"title": {"value": "  "}, "severity": unknown}))
    assert errors == {
        "title": "Give the incident a title, for example: Checkout is down.",
        "severity": "Choose a severity from P1 (critical) to P4 (low).",
    }
    missing = read_declare(submitted(view, {"title": {"value": "x"}, "severity": {}}))
    assert missing == Declaration("x", None)
    good = read_declare(
        submitted(
            view,
            {
                "title": {"value": " Checkout   is down "},
                "severity": {"selected_option": {"value": "P1"}},
                "description": {"value": "EU only"},
                "commander": {"selected_user": "UBOB"},
            },
        )
    )
    assert good == Declaration("Checkout is down", Severity.P1, "EU only", Mention("UBOB"))


def test_update_submission_needs_text_and_its_incident() -> None:
    """The update form returns (incident, text), or an error under the text field."""
    view = update_view(4, "INC-4")
    assert read_update(submitted(view, {"text": {"value": "All good"}})) == (4, "All good")
    assert "text" in read_update(submitted(view, {"text": {"value": ""}}))  # type: ignore[operator]
    lost = {**view, "private_metadata": "garbage"}
    assert "text" in read_update(submitted(lost, {"text": {"value": "x"}}))  # type: ignore[operator]


def test_submission_key_is_stable_for_a_double_click_and_new_for_a_correction() -> None:
    """The same view with the same values gives the same key; changed values a new one."""
    view = declare_view(DeclareForm(), Severity.P3)
    first = submitted(view, {"title": {"value": "A"}})
    assert submission_key(first) == submission_key(json.loads(json.dumps(first)))
    assert submission_key(first) != submission_key(submitted(view, {"title": {"value": "B"}}))
    assert len(submission_key(first)) <= 200


def test_manifest_over_http_points_every_url_at_the_public_url() -> None:
    """/incident, /inc and /oncall, events and interactivity all use TOCSIN_PUBLIC_URL."""
    manifest = build_manifest("https://ops.example.com/")
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/incident", "/inc", "/oncall"]
    assert all(c["url"] == "https://ops.example.com/slack/commands" for c in commands)
    assert all(c["should_escape"] for c in commands)
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == "https://ops.example.com/slack/events"
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "pin_added",
        "reaction_added",
        "member_joined_channel",
    }
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://ops.example.com/slack/interactions",
    }
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "pins:read", "reactions:read"} <= scopes
    assert "im:write" in scopes  # page_dm opens a direct message (conversations.open)
    assert settings["socket_mode_enabled"] is False


def test_manifest_for_socket_mode_has_no_request_urls() -> None:
    """In Socket Mode Slack needs no public URL, so the manifest names none."""
    manifest = build_manifest("http://127.0.0.1:8080", socket_mode=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_tocsin_slack_manifest_prints_yaml_or_json(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI prints a manifest that parses back to what build_manifest makes."""
    from tocsin.adapters.cli.main import cli

    monkeypatch.setenv("TOCSIN_PUBLIC_URL", "https://ops.example.com")
    monkeypatch.delenv("TOCSIN_SLACK_APP_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["slack", "manifest", "--format", fmt])
    assert result.exit_code == 0, result.output
    parsed = yaml.safe_load(result.output) if fmt == "yaml" else json.loads(result.output)
    assert parsed == build_manifest("https://ops.example.com")
    assert render(parsed, fmt) == result.output
