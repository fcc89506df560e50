"""What tocsin posts on its own, not in reply to a command: pages, reminders, maintenance
notices and alert groups, built once for all platforms.

Like :mod:`tocsin.chat.texts` (whose headline they share), builders take an outbox payload and a
:class:`~tocsin.chat.messages.Style`, and escape every user-typed text through the style.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tocsin.chat.messages import (
    ACK,
    ALERT_ACK,
    ALERT_DECLARE,
    ALERT_SILENCE_HOURS,
    UPDATE,
    Button,
    Field,
    Message,
    Style,
)
from tocsin.chat.texts import headline


# --- paging and reminders (outbox kinds ``page_dm`` and ``remind``, see docs/oncall.md) -------
def _buttons(payload: Mapping[str, Any]) -> tuple[Button, ...]:
    """The buttons a paging payload asks for (``payload["buttons"]``), as on the announcement
    (an incident's page) or the proposal (an alert group's page, ``alert_ack``): the same
    actions, so the platforms' button handlers run them unchanged."""
    value = str((payload.get("incident") or {}).get("number", ""))
    group = str((payload.get("group") or {}).get("id", ""))
    known = {}
    if value:
        known[ACK] = Button(ACK, "Acknowledge", value, "primary")
        known[UPDATE] = Button(UPDATE, "Post update", value)
    if group:
        known[ALERT_ACK] = Button(ALERT_ACK, "Acknowledge", group, "primary")
    return tuple(known[name] for name in payload.get("buttons") or () if name in known)


def page_message(payload: Mapping[str, Any], style: Style) -> Message:
    """A page, sent to the paged person directly: the incident's headline, the page's text and
    an Acknowledge button. Plain (no embed) so the notification shows the words."""
    snap = payload.get("incident") or {}
    lines = [f"🚨 {style.bold(headline(snap, style))}", style.escape(str(payload.get("text", "")))]
    url = str(snap.get("url") or "")
    if url:
        lines.append(style.link(url, "Open in the tocsin dashboard"))
    return Message("\n".join(lines), buttons=_buttons(payload))


def reminder_message(payload: Mapping[str, Any], style: Style) -> Message:
    """A reminder in the incident channel. Reason ``update``: the commander is mentioned (in
    place of their name at the start of the text) and offered a Post update button. Reason
    ``commander``: a polite request for someone to take command, no mention, no button."""
    text = style.escape(str(payload.get("text", "")))
    if payload.get("reason") != "update":
        return Message(f"🙋 {text}", buttons=_buttons(payload))
    person = payload.get("person")
    if person:
        mention = style.mention(person)
        name = style.escape(str(person.get("display_name") or ""))
        if name and text.startswith(f"{name},"):
            text = mention + text[len(name) :]
        elif mention not in text:
            text = f"{mention}: {text}"
    return Message(f"⏰ {text}", buttons=_buttons(payload))


_MAINTENANCE_HEADS = {
    "created": "Scheduled maintenance",
    "started": "Maintenance started",
    "completed": "Maintenance completed",
    "rescheduled": "Maintenance rescheduled",
    "updated": "Maintenance updated",
    "cancelled": "Maintenance cancelled",
}


def _utc_time(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%a %Y-%m-%d %H:%M UTC")


def maintenance_notice(notice: Mapping[str, Any], style: Style) -> Message:
    """A scheduled maintenance's announcement (``payload["maintenance"]`` of a ``notice`` row):
    created, started, completed, rescheduled, updated or cancelled, with its window and the
    components it affects (and, after an edit, what they were: ``was``)."""
    head = _MAINTENANCE_HEADS.get(str(notice.get("event")), "Maintenance")
    title = f"{head}: {style.escape(str(notice.get('title', '')))}"
    window = f"{_utc_time(str(notice['start']))} to {_utc_time(str(notice['end']))}"
    was = notice.get("was") or {}
    fields = [Field("Window" if "start" not in was else "Now", window)]
    if "start" in was:
        fields.append(
            Field("Was", f"{_utc_time(str(was['start']))} to {_utc_time(str(was['end']))}")
        )
    components = [style.escape(str(c)) for c in notice.get("components") or ()]
    if components or "components" in was:
        fields.append(Field("Affects", ", ".join(components) or "no component"))
    if "components" in was:
        fields.append(
            Field(
                "Affected before",
                ", ".join(style.escape(str(c)) for c in was["components"]) or "no component",
            )
        )
    if "title" in was:
        fields.append(Field("Was named", style.escape(str(was["title"]))))
    body = style.escape(str(notice.get("description") or ""))
    body = body if notice.get("event") == "created" else ""
    return Message(title, title, body, tuple(fields), footer=f"Maintenance #{notice.get('id')}")


def alert_group_message(
    payload: Mapping[str, Any], style: Style, *, buttons: bool = False
) -> Message:
    """A proposed alert group in the announce channel: its headline, the firing alerts (with
    their links) and how to declare an incident for it from the CLI; with ``buttons``,
    Acknowledge, Declare incident and Silence 1h / 4h / 24h."""
    group = payload.get("group") or {}
    snap = payload.get("incident") or {}
    lines = []
    for alert in list(group.get("alerts") or [])[:10]:
        name = style.escape(str(alert.get("name", "")))
        link = str(alert.get("link") or "")
        lines.append(f"• {style.link(link, name) if link else name}")
    labels = ", ".join(f"{k}={v}" for k, v in sorted((group.get("labels") or {}).items()))
    command = f"tocsin alerts declare {group.get('id', '')}"
    hint = f"Declare an incident for it: {style.code(command)}"
    fields = (Field("Labels", style.escape(labels[:900])),) if labels else ()
    return Message(
        f"🔔 {headline(snap, style)}: {style.escape(str(payload.get('text', '')))}",
        title=f"🔔 {headline(snap, style)}",
        body="\n".join([*lines, hint]),
        fields=fields,
        buttons=_alert_buttons(str(group.get("id", ""))) if buttons else (),
    )


ALERT_DECLARE_LABEL = "Declare incident"
ALERT_DECLARE_QUESTION = "Declare an incident for this alert group?"


def _alert_buttons(value: str) -> tuple[Button, ...]:
    silences = tuple(
        Button(action, f"Silence {hours}h", value) for action, hours in ALERT_SILENCE_HOURS.items()
    )
    return (
        Button(ALERT_ACK, "Acknowledge", value, "primary"),
        Button(
            ALERT_DECLARE,
            ALERT_DECLARE_LABEL,
            value,
            "danger",
            confirm=ALERT_DECLARE_QUESTION,
        ),
        *silences,
    )


def alert_action_done(action: str, group: Mapping[str, Any], style: Style) -> Message:
    """What the person who pressed an alert group's button reads."""
    title = style.escape(str(group.get("title", "")))
    if action == ALERT_DECLARE:
        return Message(
            f"Declared {group.get('incident')} for alert group #{group.get('id')}: {title}."
        )
    if action == ALERT_ACK:
        return Message(f"Alert group #{group.get('id')} acknowledged: {title}.")
    hours = ALERT_SILENCE_HOURS.get(action, 0)
    return Message(f"Alert group #{group.get('id')} silenced for {hours}h: {title}.")
