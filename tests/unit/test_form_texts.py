"""The declare and update forms of Slack and Discord show the same words, from chat/texts.py."""

from __future__ import annotations

from typing import Any

from tocsin.adapters.discord.forms import declare_modal, update_modal
from tocsin.adapters.slack.modals import declare_view, update_view
from tocsin.chat import texts
from tocsin.chat.messages import DeclareForm
from tocsin.domain.model import Severity


def _discord_labels(modal: dict[str, Any]) -> list[str]:
    return [c["label"] for c in modal["data"]["components"]]


def test_both_declare_forms_use_the_shared_labels() -> None:
    """Title, severity, commander and description labels and the severity choices are the same
    text on both platforms (the order of the fields is each platform's own)."""
    slack = declare_view(DeclareForm(), Severity.P3)
    discord = declare_modal(Severity.P3)
    slack_labels = [b["label"]["text"] for b in slack["blocks"]]
    wanted = {texts.TITLE_LABEL, texts.SEVERITY_LABEL, texts.COMMANDER_LABEL}
    assert wanted | {texts.DESCRIPTION_LABEL} == set(slack_labels) == set(_discord_labels(discord))
    assert slack["title"]["text"] == discord["data"]["title"] == "Declare an incident"
    slack_options = [o["text"]["text"] for o in slack["blocks"][1]["element"]["options"]]
    discord_select = discord["data"]["components"][1]["component"]
    assert slack_options == [o["label"] for o in discord_select["options"]]
    assert slack_options == ["P1 · critical", "P2 · high", "P3 · moderate", "P4 · low"]


def test_both_update_forms_use_the_shared_prompt() -> None:
    """The update forms ask the same question under the same title."""
    slack = update_view(4, "INC-4")
    discord = update_modal(4, "INC-4")
    assert slack["blocks"][0]["label"]["text"] == texts.UPDATE_PROMPT
    assert _discord_labels(discord) == [texts.UPDATE_PROMPT]
    assert slack["title"]["text"] == discord["data"]["title"] == "Update INC-4"
