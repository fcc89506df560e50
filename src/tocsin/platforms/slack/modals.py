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
from typing import Any

from tocsin.chat import texts
from tocsin.chat.messages import DeclareForm
from tocsin.chat.payloads import Malformed, json_value, obj, string
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE
from tocsin.domain.model import Severity
from tocsin.domain.references import parse_incident_ref
from tocsin.domain.validation import Declaration, Invalid, check_declare

DECLARE = "tocsin_declare"
UPDATE = "tocsin_update"
VALUE = "value"  # action_id of every input
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(severity: Severity) -> dict[str, Any]:
    return {"text": _plain(texts.severity_option(severity.value)), "value": severity.value}


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
        "title": _plain(texts.DECLARE_FORM),
        "submit": _plain(texts.DECLARE_SUBMIT),
        "close": _plain(texts.CANCEL),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            _input("title", texts.TITLE_LABEL, title, hint=_plain(texts.TITLE_HINT)),
            _input(
                "severity",
                texts.SEVERITY_LABEL,
                {
                    "type": "static_select",
                    "options": [_option(s) for s in Severity],
                    "initial_option": _option(severity),
                },
            ),
            _input(
                "description",
                texts.DESCRIPTION_LABEL,
                {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT},
                optional=True,
            ),
            _input(
                "commander",
                texts.COMMANDER_LABEL,
                commander,
                optional=True,
                hint=_plain(texts.COMMANDER_HINT),
            ),
        ],
    }


def update_view(number: int, ref: str) -> dict[str, Any]:
    """The "post update" modal for incident ``number``."""
    return {
        "type": "modal",
        "callback_id": UPDATE,
        "title": _plain(texts.update_form_title(ref)[:24]),
        "submit": _plain(texts.UPDATE_SUBMIT),
        "close": _plain(texts.CANCEL),
        "private_metadata": json.dumps({"incident": number}),
        "blocks": [
            _input(
                "text",
                texts.UPDATE_PROMPT,
                {"type": "plain_text_input", "multiline": True, "max_length": MAX_TEXT},
                hint=_plain(texts.UPDATE_HINT),
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


def read_declare(view: View) -> Declaration | dict[str, str]:
    """The submitted values, or errors by block_id (the block ids are the field names)."""
    values = _values(view)
    found = check_declare(
        title=values.get("title", {}).get("value"),
        severity=obj(values.get("severity", {}), "selected_option").get("value"),
        description=values.get("description", {}).get("value"),
        commander=string(values.get("commander", {}), "selected_user") or None,
    )
    return dict(found.errors) if isinstance(found, Invalid) else found


def read_update(view: View) -> tuple[int, str] | dict[str, str]:
    """``(incident, text)``, or errors by block_id."""
    text = str(_values(view).get("text", {}).get("value") or "").strip()
    found = metadata(view).get("incident")
    number = parse_incident_ref(str(found)) if type(found) is int else None
    if number is None:
        return {"text": texts.FORM_LOST_INCIDENT}
    if not text:
        return {"text": texts.WRITE_UPDATE_FIRST}
    return number, text


def submission_key(view: View) -> str:
    """A dedup key for one submission: the view, and what was in it (a corrected resubmission
    after errors differs, a double click does not)."""
    values = json.dumps(_values(view), sort_keys=True, default=str)
    seed = f"{view.get('id')}|{view.get('hash')}|{values}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return f"slack:view:{view.get('id')}:{digest}"
