"""Slack modals: the declare form and the "post update" form, and reading their submissions.

Reading a submission returns either the values or ``errors`` (block_id -> message), which the
interaction handler sends back as ``{"response_action": "errors", ...}`` so Slack shows them
under the fields and keeps the modal open.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.chat.messages import DeclareForm
from tocsin.chat.payloads import Malformed, json_value, obj, string
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Mention
from tocsin.domain.model import Severity
from tocsin.domain.references import parse_incident_ref

DECLARE = "tocsin_declare"
UPDATE = "tocsin_update"
VALUE = "value"  # action_id of every input
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_SEVERITY_TEXT = {
    Severity.P1: "P1 · critical",
    Severity.P2: "P2 · high",
    Severity.P3: "P3 · moderate",
    Severity.P4: "P4 · low",
}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(severity: Severity) -> dict[str, Any]:
    return {"text": _plain(_SEVERITY_TEXT[severity]), "value": severity.value}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    element = {**element, "action_id": VALUE}
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        **extra,
    }


def declare_view(form: DeclareForm, default: Severity, *, channel_id: str = "") -> dict[str, Any]:
    """The declare modal, prefilled from what was typed after ``/incident declare``."""
    severity = form.severity or default
    title: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_TITLE}
    if form.title:
        title["initial_value"] = form.title
    commander: dict[str, Any] = {"type": "users_select"}
    if form.commander is not None and _SLACK_USER.fullmatch(form.commander.user_id):
        commander["initial_user"] = form.commander.user_id  # not a typed @name Slack cannot know
    return {
        "type": "modal",
        "callback_id": DECLARE,
        "title": _plain("Declare an incident"),
        "submit": _plain("Declare"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            _input("title", "Title", title, hint=_plain("What is broken, in a few words.")),
            _input(
                "severity",
                "Severity",
                {
                    "type": "static_select",
                    "options": [_option(s) for s in Severity],
                    "initial_option": _option(severity),
                },
            ),
            _input(
                "description",
                "Description",
                {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT},
                optional=True,
            ),
            _input(
                "commander",
                "Commander",
                commander,
                optional=True,
                hint=_plain("Leave it empty to lead the incident yourself."),
            ),
        ],
    }


def update_view(number: int, ref: str) -> dict[str, Any]:
    """The "post update" modal for incident ``number``."""
    return {
        "type": "modal",
        "callback_id": UPDATE,
        "title": _plain(f"Update {ref}"[:24]),
        "submit": _plain("Post update"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"incident": number}),
        "blocks": [
            _input(
                "text",
                "What is the latest?",
                {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT},
                hint=_plain(
                    "Posted to the incident channel, the announcement and the status page."
                ),
            )
        ],
    }


View = Mapping[str, Any]


def _values(view: View) -> dict[str, Mapping[str, Any]]:
    """block_id -> the state of its input (``state.values.<block>.value``), each an object."""
    values = obj(obj(view, "state"), "values")
    return {str(block): obj(obj(values, block), VALUE) for block in values}


def metadata(view: View) -> dict[str, Any]:
    """The JSON object our modals keep in ``private_metadata`` ({} for any other text)."""
    raw = string(view, "private_metadata")  # Malformed when not a string: Slack never sends that
    try:
        data = json_value(raw or "{}")
    except Malformed:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True, slots=True)
class Declared:
    """A valid declare submission."""

    title: str
    severity: Severity
    description: str
    commander: Mention | None


def read_declare(view: View) -> Declared | dict[str, str]:
    """The submitted values, or errors by block_id."""
    values = _values(view)
    title = " ".join(str(values.get("title", {}).get("value") or "").split())
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give the incident a title, for example: Checkout is down."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title to {MAX_TITLE} characters or fewer."
    chosen = str(obj(values.get("severity", {}), "selected_option").get("value"))
    if chosen not in {s.value for s in Severity}:
        errors["severity"] = "Choose a severity from P1 (critical) to P4 (low)."
    if errors:
        return errors
    description = str(values.get("description", {}).get("value") or "").strip()
    user = string(values.get("commander", {}), "selected_user")
    return Declared(title, Severity(chosen), description, Mention(user) if user else None)


def read_update(view: View) -> tuple[int, str] | dict[str, str]:
    """``(incident, text)``, or errors by block_id."""
    written = str(_values(view).get("text", {}).get("value") or "").strip()
    found = metadata(view).get("incident")
    number = parse_incident_ref(str(found)) if type(found) is int else None
    if number is None:
        return {"text": "This form lost track of its incident; open it again from the message."}
    if not written:
        return {"text": "Write the update first."}
    return number, written


def submission_key(view: View) -> str:
    """A dedup key for one submission: the view, and what was in it (a corrected resubmission
    after errors differs, a double click does not)."""
    values = json.dumps(_values(view), sort_keys=True, default=str)
    seed = f"{view.get('id')}|{view.get('hash')}|{values}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return f"slack:view:{view.get('id')}:{digest}"
