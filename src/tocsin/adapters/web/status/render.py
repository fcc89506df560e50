"""The status page's representations as bytes: HTML, an Atom feed and Statuspage's JSON.

Every one escapes what people typed (titles, update texts, component names):

* HTML through Jinja2 with autoescaping (``<script>`` shows as text);
* Atom through ElementTree, which escapes text and attributes for XML;
* JSON through orjson, with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e`` and
  ``\\u0026`` so that a document pasted into a web page cannot close a ``<script>`` element (the
  parsed values are unchanged).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import orjson

from tocsin.adapters.web.status.assets import (
    HISTORY_TEMPLATE,
    LABELS,
    MAINTENANCE_LABELS,
    TEMPLATE,
    UPDATES_TEMPLATE,
)
from tocsin.domain.maintenance import shown_status
from tocsin.domain.status_history import duration
from tocsin.domain.status_json import DOCUMENTS, current_maintenances, maintenance_id, stamp
from tocsin.domain.status_view import IncidentView, StatusPage

if TYPE_CHECKING:  # jinja2 is imported at the first page rendered (~2 MB idle otherwise)
    from jinja2 import Environment

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
HTML = "text/html; charset=utf-8"
JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"


def when(value: datetime | None) -> str:
    return value.strftime("%b %d, %H:%M UTC") if value is not None else ""


def iso(value: datetime | None) -> str:
    return stamp(value) or ""


@functools.cache
def environment() -> Environment:
    from jinja2 import DictLoader, Environment, StrictUndefined

    env = Environment(
        loader=DictLoader(
            {
                "status.html": TEMPLATE,
                "history.html": HISTORY_TEMPLATE,
                "updates.html": UPDATES_TEMPLATE,
            }
        ),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    env.filters["duration"] = duration
    return env


def json_bytes(document: Any) -> bytes:
    """``document`` as JSON that is also safe to embed in HTML."""
    raw = orjson.dumps(document)
    return raw.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")


def maintenance_windows(status: StatusPage) -> list[dict[str, Any]]:
    """The upcoming and current maintenances, as the template shows them."""
    now = status.now or status.updated_at
    return [
        {
            "id": maintenance_id(m), "title": m.title, "start": m.starts_at, "end": m.ends_at,
            "components": m.components, "description": m.description,
            "label": MAINTENANCE_LABELS[shown_status(m, now)],
        }
        for m in current_maintenances(status)
    ]  # fmt: skip


def html(status: StatusPage, *, subscribe: bool = True) -> bytes:
    """The page; ``subscribe`` shows the email subscription form (off without SMTP)."""
    page = environment().get_template("status.html")
    windows = maintenance_windows(status)
    rendered = page.render(
        page=status.page, status=status, labels=LABELS, windows=windows, subscribe=subscribe
    )
    return rendered.encode()


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    element.text = text
    return element


def _entry(feed: ET.Element, incident: IncidentView, url: str) -> None:
    entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
    link = f"{url}#incident-{incident.id}"
    _text(entry, "id", link)
    _text(entry, "title", incident.name)
    _text(entry, "published", iso(incident.created_at))
    _text(entry, "updated", iso(incident.updated_at))
    ET.SubElement(entry, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": link})
    lines = [f"{u.status.title()} ({when(u.at)}): {u.body}" for u in incident.updates]
    if incident.summary:  # the public post-mortem summary leads a resolved incident's entry
        lines.insert(0, f"Summary: {incident.summary}")
    _text(entry, "content", "\n\n".join(lines), type="text")


def atom(status: StatusPage) -> bytes:
    """The incident history as an Atom feed, most recently changed first."""
    ET.register_namespace("", ATOM_NS)
    url = status.page.url
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "en"})
    _text(feed, "id", url)
    _text(feed, "title", f"{status.page.name} history")
    _text(feed, "updated", iso(status.updated_at))
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _text(author, "name", status.page.name)
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "alternate", "href": url})
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "self", "href": f"{url}/history.atom"})
    recent = sorted([*status.active, *status.past], key=lambda i: i.updated_at, reverse=True)
    for incident in recent[:FEED_ENTRIES]:
        _entry(feed, incident, url)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


def _json(name: str) -> Callable[[StatusPage], bytes]:
    document = DOCUMENTS[name]
    return lambda status: json_bytes(document(status))


RENDERERS: Mapping[str, tuple[Callable[[StatusPage], bytes], str]] = {
    "html": (html, HTML),
    "atom": (atom, ATOM),
    **{name: (_json(name), JSON) for name in DOCUMENTS},
}
"""Representation name -> (renderer, media type)."""
