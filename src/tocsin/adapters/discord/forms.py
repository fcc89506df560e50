"""Discord modals: the declare form and the "post update" form, and reading what was submitted.

Modals are built from label components (a text input, a severity select and a user select), so
the declare form offers the same choices as the Slack one. Discord cannot show errors under the
fields of a submitted modal, so :func:`read_declare` returns the problems as sentences for an
ephemeral answer. Submitted values are read from both the label layout and the older action-row
layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.adapters.discord.render import MODAL, custom_id
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Mention
from tocsin.domain.model import Severity

DECLARE = "declare"
UPDATE = "update"
SHORT, PARAGRAPH = 1, 2
TEXT_INPUT, STRING_SELECT, USER_SELECT, LABEL = 4, 3, 5, 18


def _label(label: str, component: dict[str, Any], description: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"type": LABEL, "label": label, "component": component}
    if description:
        body["description"] = description[:100]
    return body


def _text_input(
    name: str, style: int, limit: int, *, required: bool, value: str = "", placeholder: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TEXT_INPUT,
        "custom_id": name,
        "style": style,
        "required": required,
        "max_length": min(limit, 4000),
    }
    if value:
        body["value"] = value[: min(limit, 4000)]
    if placeholder:
        body["placeholder"] = placeholder[:100]
    return body


def _severity_select(chosen: Severity) -> dict[str, Any]:
    options = [
        {"label": f"{s.value} · {s.label}", "value": s.value, "default": s is chosen}
        for s in Severity
    ]
    return {"type": STRING_SELECT, "custom_id": "severity", "options": options}


def _user_select(commander: Mention | None) -> dict[str, Any]:
    users: dict[str, Any] = {
        "type": USER_SELECT,
        "custom_id": "commander",
        "required": False,
        "min_values": 0,
        "max_values": 1,
    }
    if commander is not None and commander.user_id.isascii() and commander.user_id.isdigit():
        users["default_values"] = [{"type": "user", "id": commander.user_id}]
    return users


def declare_modal(
    default: Severity,
    *,
    title: str = "",
    description: str = "",
    severity: Severity | None = None,
    commander: Mention | None = None,
) -> dict[str, Any]:
    """The declare form (a type 9 response), prefilled."""
    title_input = _text_input(
        "title",
        SHORT,
        MAX_TITLE,
        required=True,
        value=" ".join(title.split()),
        placeholder="Checkout is down",
    )
    description_input = _text_input(
        "description", PARAGRAPH, MAX_TEXT, required=False, value=description
    )
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_id(DECLARE, "new"),
            "title": "Declare an incident",
            "components": [
                _label("Title", title_input, "What is broken, in a few words."),
                _label("Severity", _severity_select(severity or default)),
                _label(
                    "Commander",
                    _user_select(commander),
                    "Leave it empty to lead the incident yourself.",
                ),
                _label("Description", description_input),
            ],
        },
    }


def update_modal(number: int, ref: str) -> dict[str, Any]:
    """The "post update" form for incident ``number``."""
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_id(UPDATE, str(number)),
            "title": f"Update {ref}"[:45],
            "components": [
                _label(
                    "What is the latest?",
                    _text_input("text", PARAGRAPH, MAX_TEXT, required=True),
                    "Posted to the incident channel, the announcement and the status page.",
                )
            ],
        },
    }


# --- submissions ------------------------------------------------------------------------------
def _walk(components: Any) -> Iterator[Mapping[str, Any]]:
    for item in components if isinstance(components, list) else []:
        if not isinstance(item, Mapping):
            continue
        if item.get("custom_id"):
            yield item
        yield from _walk(item.get("components"))
        if isinstance(item.get("component"), Mapping):
            yield from _walk([item["component"]])


def submitted(data: Mapping[str, Any]) -> dict[str, Any]:
    """custom_id -> the value (text inputs) or the list of values (selects)."""
    found: dict[str, Any] = {}
    for item in _walk(data.get("components")):
        name = str(item["custom_id"])
        found[name] = item.get("values") if "values" in item else item.get("value")
    return found


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


@dataclass(frozen=True, slots=True)
class Declared:
    """A valid declare submission."""

    title: str
    severity: Severity | None
    description: str
    commander: Mention | None


def read_declare(data: Mapping[str, Any], names: Mapping[str, str]) -> Declared | list[str]:
    """The submitted values, or the problems with them. ``names``: user id -> display name."""
    values = submitted(data)
    title = " ".join(_first(values.get("title")).split())
    problems = []
    if not title:
        problems.append("Give the incident a title, for example: Checkout is down.")
    elif len(title) > MAX_TITLE:
        problems.append(f"Keep the title to {MAX_TITLE} characters or fewer.")
    chosen = _first(values.get("severity"))
    if chosen and chosen not in {s.value for s in Severity}:
        problems.append("Choose a severity from P1 (critical) to P4 (low).")
    description = _first(values.get("description")).strip()
    if len(description) > MAX_TEXT:
        problems.append(f"Keep the description to {MAX_TEXT} characters or fewer.")
    if problems:
        return problems
    user = _first(values.get("commander"))
    commander = Mention(user, names.get(user, "")) if user else None
    return Declared(title, Severity(chosen) if chosen else None, description, commander)


def read_update(data: Mapping[str, Any]) -> str:
    """The update text ("" when none was given)."""
    return _first(submitted(data).get("text")).strip()
