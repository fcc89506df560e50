"""Discord modals: the declare form and the "post update" form, and reading what was submitted.

Modals are built from label components (a text input, a severity select and a user select), so
the declare form offers the same choices as the Slack one. Discord cannot show errors under the
fields of a submitted modal, so :func:`read_declare` returns the problems as sentences for an
ephemeral answer. Submitted values are read from both the label layout and the older action-row
layout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tocsin.chat import texts
from tocsin.domain.commands import MAX_TEXT, MAX_TITLE, Mention
from tocsin.domain.model import Severity
from tocsin.domain.validation import Declaration, Invalid, check_declare
from tocsin.platforms.discord.render import MODAL, custom_id

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
        {"label": texts.severity_option(s.value), "value": s.value, "default": s is chosen}
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
        placeholder=texts.TITLE_EXAMPLE,
    )
    description_input = _text_input(
        "description", PARAGRAPH, MAX_TEXT, required=False, value=description
    )
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_id(DECLARE, "new"),
            "title": texts.DECLARE_FORM,
            "components": [
                _label(texts.TITLE_LABEL, title_input, texts.TITLE_HINT),
                _label(texts.SEVERITY_LABEL, _severity_select(severity or default)),
                _label(
                    texts.COMMANDER_LABEL,
                    _user_select(commander),
                    texts.COMMANDER_HINT,
                ),
                _label(texts.DESCRIPTION_LABEL, description_input),
            ],
        },
    }


def update_modal(number: int, ref: str) -> dict[str, Any]:
    """The "post update" form for incident ``number``."""
    return {
        "type": MODAL,
        "data": {
            "custom_id": custom_id(UPDATE, str(number)),
            "title": texts.update_form_title(ref)[:45],
            "components": [
                _label(
                    texts.UPDATE_PROMPT,
                    _text_input("text", PARAGRAPH, MAX_TEXT, required=True),
                    texts.UPDATE_HINT,
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


def read_declare(data: Mapping[str, Any], names: Mapping[str, str]) -> Declaration | list[str]:
    """The submitted values, or the problems with them. ``names``: user id -> display name."""
    values = submitted(data)
    user = _first(values.get("commander"))
    found = check_declare(
        title=_first(values.get("title")),
        severity=_first(values.get("severity")),
        description=_first(values.get("description")),
        commander=user,
        commander_name=names.get(user, ""),
    )
    return list(found.errors.values()) if isinstance(found, Invalid) else found


def read_update(data: Mapping[str, Any]) -> str:
    """The update text ("" when none was given)."""
    return _first(submitted(data).get("text")).strip()
