"""Every message tocsin shows in chat, built once for all platforms: replies, errors, form labels.

Builders take the neutral incident snapshot that routing puts in effect payloads
(:func:`tocsin.domain.routing.snapshot`) and a :class:`~tocsin.chat.messages.Style` for the
platform's markup. User-typed text is always escaped through the style, so a title such as
``<!channel> down`` never pings anyone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tocsin.chat.messages import (
    ACK,
    ALERT_ACK,
    ALERT_DECLARE,
    ALERT_SILENCE_HOURS,
    JOIN,
    RESOLVE,
    UPDATE,
    Button,
    Field,
    Message,
    Person,
    Style,
)
from tocsin.domain.commands import help_text
from tocsin.domain.errors import DomainError, ParseError

Snapshot = Mapping[str, Any]

SEVERITY_MARK = {"P1": "🔴", "P2": "🟠", "P3": "🟡", "P4": "🔵"}
SEVERITY_WORD = {"P1": "critical", "P2": "high", "P3": "moderate", "P4": "low"}
STATUS_MARK = {"investigating": "🔎", "identified": "🧭", "monitoring": "👀", "resolved": "✅"}
ENTRY_MARK = {
    "update": "📣",
    "note": "📝",
    "severity": "⚠️",
    "status": "🔁",
    "role": "🎖️",
    "joined": "👋",
    "acknowledged": "🙋",
    "action": "📌",
    "resolved": "✅",
    "reopened": "🔓",
    "postmortem": "📄",
}
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def channel_name(number: int, title: str, *, limit: int = 80) -> str:
    """``inc-<n>-<slug>``: lowercase ASCII letters, digits and dashes, at most ``limit`` long."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _SLUG_RE.sub("-", ascii_title.lower()).strip("-")
    name = f"inc-{number}"
    if slug:
        name = f"{name}-{slug}"[:limit].rstrip("-")
    return name


def _severity(snap: Snapshot) -> str:
    sev = str(snap.get("severity", ""))
    return f"{SEVERITY_MARK.get(sev, '')} {sev} {SEVERITY_WORD.get(sev, '')}".strip()


def _status(snap: Snapshot) -> str:
    status = str(snap.get("status", ""))
    return f"{STATUS_MARK.get(status, '')} {status}".strip()


def channel_topic(snap: Snapshot, style: Style) -> str:
    """The incident channel's topic: severity, status and commander, short (Slack allows 250)."""
    commander = style.mention(snap.get("commander"))
    return f"{_severity(snap)} · {snap.get('status', '')} · Commander: {commander}"[:250]


def _headline(snap: Snapshot, style: Style) -> str:
    return f"{SEVERITY_MARK.get(str(snap.get('severity')), '')} {snap.get('ref', '')}: " + (
        style.escape(str(snap.get("title", "")))
    )


def announcement(
    snap: Snapshot, style: Style, *, latest_update: str = "", channel_id: str = ""
) -> Message:
    """The announcement in the announce channel, edited in place as the incident changes."""
    title = _headline(snap, style)
    fields = [
        Field("Severity", _severity(snap)),
        Field("Status", _status(snap)),
        Field("Commander", style.mention(snap.get("commander"))),
    ]
    if channel_id:
        fields.append(Field("Channel", style.channel(channel_id)))
    body = f"{style.bold('Latest update:')} {style.escape(latest_update)}" if latest_update else ""
    buttons: tuple[Button, ...] = ()
    value = str(snap.get("number", ""))
    if snap.get("status") != "resolved":
        question = confirm_question("Resolve", str(snap.get("ref", "this incident")))
        buttons = (
            Button(JOIN, "Join", value, "primary"),
            Button(ACK, "Acknowledge", value),
            Button(UPDATE, "Post update", value),
            Button(RESOLVE, "Resolve", value, "danger", question),
        )
    text = f"{snap.get('ref', '')} ({snap.get('severity', '')}, {snap.get('status', '')}): " + (
        style.escape(str(snap.get("title", "")))
    )
    return Message(text, title, body, tuple(fields), buttons, _footer(snap, style))


def _footer(snap: Snapshot, style: Style) -> str:
    url = str(snap.get("url") or "")
    return style.link(url, "Open in the tocsin dashboard") if url else ""


def channel_summary(
    snap: Snapshot, style: Style, *, declared_by: Person | None = None, description: str = ""
) -> Message:
    """The summary posted and pinned in a new incident channel."""
    fields = [
        Field("Severity", _severity(snap)),
        Field("Status", _status(snap)),
        Field("Commander", style.mention(snap.get("commander"))),
    ]
    if declared_by:
        fields.append(Field("Declared by", style.mention(declared_by)))
    how = (
        f"Post updates with {style.code('/incident update <text>')}; add notes with "
        f"{style.code('/incident note <text>')} or by pinning a message (or reacting 📌). "
        f"{style.code('/incident help')} lists everything."
    )
    body = f"{style.escape(description)}\n\n{how}" if description else how
    text = f"{snap.get('ref', '')}: {style.escape(str(snap.get('title', '')))}"
    return Message(text, _headline(snap, style), body, tuple(fields), (), _footer(snap, style))


def entry_message(payload: Mapping[str, Any], style: Style) -> Message:
    """One timeline entry (an effect payload) as a line in the incident channel."""
    event = str(payload.get("event", ""))
    mark = ENTRY_MARK.get(event, "•")
    actor = style.mention(payload.get("actor"))
    text = style.escape(str(payload.get("text", "")))
    if event == "update":
        line = f"{mark} {style.bold('Update')} from {actor}: {text}"
    elif event == "note":
        line = f"{mark} {actor} noted: {text}"
    else:
        line = f"{mark} {text}"
    return Message(line)


_HELP: dict[tuple[str, str, str], Message] = {}


def help_message(style: Style, *, prefix: str = "/incident ", topic: str = "") -> Message:
    """Usage of every subcommand, in one message. Built once per platform, prefix and topic:
    it never changes while the process runs, and escaping it cost a quarter of a ``help``."""
    key = (style.platform, prefix, topic)
    known = _HELP.get(key)
    if known is None:
        known = _HELP[key] = _help_message(style, prefix=prefix, topic=topic)
    return known


def _help_message(style: Style, *, prefix: str, topic: str) -> Message:
    lines = []
    for raw in help_text(topic, prefix=prefix).splitlines():
        usage, sep, summary = raw.partition("  — ")
        if sep:
            lines.append(f"{style.code(style.escape(usage))} — {style.escape(summary)}")
        else:
            lines.append(style.escape(raw))
    return Message("\n".join(lines))


def denied(reason: str, style: Style) -> Message:
    """A refused command: why, and who may."""
    return Message(f"🚫 {style.escape(reason)}")


def problem(error: DomainError, style: Style, *, prefix: str = "/incident ") -> Message:
    """A command that could not run: the reason, and the usage line when there is one."""
    text = f"⚠️ {style.escape(error.message)}"
    usage = error.usage if isinstance(error, ParseError) else ""
    if usage:
        text += f"\nUsage: {style.code(style.escape(prefix + usage))}"
    return Message(text)


def failure(style: Style) -> Message:
    """Something broke on our side; the details went to the log."""
    del style
    return Message("⚠️ Something went wrong on tocsin's side and it has been logged. Try again.")


def busy() -> Message:
    return Message("⏳ Someone changed the incident at the same moment. Run the command again.")


def answer(message: str, style: Style) -> Message:
    """A service's plain-text answer (``Outcome.message``), escaped."""
    return Message(style.escape(message))


def pinned_note(text: str, author: str = "") -> str:
    """Timeline text for a pinned (or 📌) message, stored plain so it reads well everywhere."""
    body = text.strip() or "(a message without text)"
    return f"📌 {body}" + (f" (message by {author})" if author else "")


# --- forms and short replies: the words here, the layout in each platform's adapter ----------
DECLARE_FORM = "Declare an incident"
DECLARE_SUBMIT = "Declare"
CANCEL = "Cancel"
TITLE_LABEL = "Title"
TITLE_HINT = "What is broken, in a few words."
TITLE_EXAMPLE = "Checkout is down"
SEVERITY_LABEL = "Severity"
DESCRIPTION_LABEL = "Description"
COMMANDER_LABEL = "Commander"
COMMANDER_HINT = "Leave it empty to lead the incident yourself."
UPDATE_PROMPT = "What is the latest?"
UPDATE_HINT = "Posted to the incident channel, the announcement and the status page."
UPDATE_SUBMIT = "Post update"
WRITE_UPDATE_FIRST = "Write the update first."
OPENING_DECLARE_FORM = "Opening the declare form…"
ALREADY_HANDLED = "That was already handled."
REQUEST_ALREADY_HANDLED = "That request was already handled."
FORM_NOT_OURS = "That form does not belong to tocsin."
BUTTON_NOT_OURS = "That button does not belong to tocsin."
FORM_LOST_INCIDENT = "This form lost track of its incident; open it again from the message."
BUTTON_LOST_INCIDENT = "That button lost track of its incident; use /incident instead."
BUTTON_TOO_OLD = "That button is from an older tocsin; use /incident instead."
NOTHING_CHANGED = "Nothing changed."
ARE_YOU_SURE = "Are you sure?"
POSTMORTEM = "Post-mortem"
FORM_TOO_LATE = "⚠️ That took too long to open the form. Please try again."


def confirm_question(verb: str, ref: str) -> str:
    """What a button that tells everyone asks first: ``Resolve INC-3? Everyone ...``."""
    return f"{verb} {ref}? Everyone following it is told."


def update_form_title(ref: str) -> str:
    """The title of the "post update" form (each platform cuts it to its limit)."""
    return f"Update {ref}"


def severity_option(severity: str) -> str:
    """A severity as a choice in a form: ``P1 · critical``."""
    return f"{severity} · {SEVERITY_WORD.get(severity, '')}"


def unknown_command(name: str) -> str:
    return f"I don't know the command {name!r}. Try /incident help."


def not_configured(platform: str) -> str:
    """Why a form could not open: the platform has no bot token."""
    return f"{platform} is not configured with a bot token"


def declare_refused(problems: list[str]) -> str:
    """A declare form whose values were refused: every problem, and that nothing happened."""
    return "⚠️ " + " ".join(problems) + " Nothing was declared; please try again."


def declare_form_failed(style: Style) -> str:
    """The declare form did not open: how to declare by typing instead."""
    usage = style.code(style.escape("/incident declare <title> [P1..P4] [@commander]"))
    return f"⚠️ I could not open the declare form just now. Type {usage} instead."


def update_form_failed(problem: str, ref: str, style: Style) -> str:
    """The update form did not open (``problem`` says why): how to post by typing instead."""
    usage = style.code(style.escape(f"/incident update {ref} <text>"))
    return f"⚠️ I could not open the update form ({style.escape(problem)}). Use {usage}"


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
    lines = [f"🚨 {style.bold(_headline(snap, style))}", style.escape(str(payload.get("text", "")))]
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
        f"🔔 {_headline(snap, style)}: {style.escape(str(payload.get('text', '')))}",
        title=f"🔔 {_headline(snap, style)}",
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
