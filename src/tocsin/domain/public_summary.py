"""The public post-mortem summary: a few sentences the commander writes for the status page.

It is stored on the incident (:class:`PublicSummary`, ``Incident.public_summary``) whenever the
commander writes it, so it can be drafted while the incident is still open; the public page
shows it (``/status/history`` and the Atom feed) only while the incident is resolved and public
(:func:`shown`). A reopened incident keeps its summary but the page hides it until it is
resolved again. Each change is a timeline entry: "Public summary published", "... changed" or
"... removed". Atlassian Statuspage's public format has no field for it, so its JSON documents
leave it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tocsin.domain.command_types import MAX_PUBLIC_SUMMARY
from tocsin.domain.errors import InvalidTransition, ParseError
from tocsin.domain.model import Actor, EntryKind, Incident, TimelineEntry

USAGE = "summary [INC-n] [text]"


@dataclass(frozen=True, slots=True)
class PublicSummary:
    """The summary as stored on the incident (``Incident.public_summary``)."""

    text: str
    published_at: datetime
    published_by: Actor


def publish(incident: Incident, actor: Actor, text: str, now: datetime) -> list[TimelineEntry]:
    """Publish or replace the summary (1 to 2,000 characters; line breaks are kept)."""
    text = text.strip()
    if not text:
        raise ParseError("text: write the public summary, in a few sentences.", USAGE)
    if len(text) > MAX_PUBLIC_SUMMARY:
        raise ParseError(
            f"text: the public summary is {len(text)} characters long; keep it to "
            f"{MAX_PUBLIC_SUMMARY} or fewer.",
            USAGE,
        )
    previous = incident.public_summary
    if previous is not None and previous.text == text:
        raise InvalidTransition(f"The public summary of {incident.ref} already says that.")
    incident.public_summary = PublicSummary(text, now, actor)
    what = "published" if previous is None else "changed"
    data = {"summary": text, "previous": previous.text if previous else ""}
    return [TimelineEntry(now, actor, EntryKind.PUBLIC_SUMMARY, f"Public summary {what}: {text}",
                          data)]  # fmt: skip


def remove(incident: Incident, actor: Actor, now: datetime) -> list[TimelineEntry]:
    """Remove the summary; the page stops showing it."""
    previous = incident.public_summary
    if previous is None:
        raise InvalidTransition(f"{incident.ref} has no public summary to remove.")
    incident.public_summary = None
    data = {"summary": "", "previous": previous.text}
    return [TimelineEntry(now, actor, EntryKind.PUBLIC_SUMMARY, "Public summary removed", data)]


def shown(incident: Incident) -> PublicSummary | None:
    """The summary the public page may show: a resolved incident's (the caller checks that the
    incident is public, as for everything on the page)."""
    return None if incident.is_open else incident.public_summary
