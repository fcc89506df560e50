"""The pure rules of status-page subscribers (domain/subscribers.py, domain/subscriber_notices.py):
addresses, the component filter, which timeline entries make notices, and the webhook document's
Statuspage shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.domain.errors import ParseError
from tocsin.domain.model import Actor, Incident, Severity
from tocsin.domain.policy import default_policy
from tocsin.domain.subscriber_notices import component_notice, incident_notices, webhook_document
from tocsin.domain.subscribers import (
    CONFIRMED,
    PENDING,
    Subscriber,
    kind_of,
    match_components,
    normalize_email,
    normalize_url,
    wants,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Actor("slack", "U0ALICE", "alice")


def sub(components: tuple[str, ...] = (), state: str = CONFIRMED) -> Subscriber:
    return Subscriber(1, "email", "a@example.test", components, state, T0)


def test_addresses_are_checked_and_normalized() -> None:
    """Email domains are lower-cased, the local part kept; bad addresses and non-http URLs are
    ParseErrors naming the field; an http(s) address is a webhook."""
    assert normalize_email(" Ann@Example.TEST ") == "Ann@example.test"
    for bad in ("", "ann", "a@b", "a b@c.test", "<a@b.test>", "a@b.test, c@d.test"):
        with pytest.raises(ParseError, match="email"):
            normalize_email(bad)
    with pytest.raises(ParseError, match="url"):
        normalize_url("ftp://x.test/hook")
    assert kind_of("HTTPS://x.test/h") == "webhook"
    assert kind_of("a@b.test") == "email"


def test_components_match_ignoring_case_and_unknown_ones_are_refused() -> None:
    """Names take the known spelling, each once; an unknown name is a ParseError naming it."""
    assert match_components(["api", "API", " Payments "], ["API", "Payments"]) == (
        "API",
        "Payments",
    )
    with pytest.raises(ParseError, match="Nope"):
        match_components(["Nope"], ["API"])


def test_the_filter() -> None:
    """No components: everything; some: changes naming one of them, and incidents naming none;
    never anything for a subscriber who is not confirmed."""
    assert wants(sub(), {"API"})
    assert wants(sub(("API",)), {"API", "DB"})
    assert not wants(sub(("API",)), {"Payments"})
    assert wants(sub(("API",)), set())
    assert not wants(sub(state=PENDING), {"API"})


def test_public_entries_make_notices_and_private_ones_do_not() -> None:
    """A P1's declaration makes a notice with Statuspage's sentence; a P3 (not public) none;
    a component change makes one only when the status moves."""
    policy = default_policy()
    public, entries = Incident.declare(1, "Checkout down", Severity.P1, ALICE, T0)
    (notice,) = incident_notices(public, entries, policy)
    assert notice.body == "We are investigating this issue."
    assert notice.key == f"incident:1:v{public.version}:0"
    quiet, entries = Incident.declare(2, "Internal", Severity.P3, ALICE, T0)
    assert incident_notices(quiet, entries, policy) == []
    assert component_notice("API", "operational", "operational", T0) is None
    assert component_notice("API", "operational", "major_outage", T0) is not None


def test_webhook_documents_follow_statuspage_shapes() -> None:
    """An incident notice becomes meta/page/incident with one update; a component notice
    meta/page/component/component_update with the old and new status."""
    page = {"id": "p1", "status_indicator": "critical", "status_description": "x"}
    incident, entries = Incident.declare(1, "Checkout down", Severity.P1, ALICE, T0)
    (notice,) = incident_notices(incident, entries, default_policy())
    doc = webhook_document(notice.to_payload(), page=page, incident_id="abc", unsubscribe="u")
    assert set(doc) == {"meta", "page", "incident"}
    assert doc["incident"]["id"] == "abc"
    assert doc["incident"]["impact"] == "critical"
    assert doc["incident"]["incident_updates"][0]["incident_id"] == "abc"
    change = component_notice("API", "operational", "partial_outage", T0)
    assert change is not None
    doc = webhook_document(change.to_payload(), page=page, incident_id="", unsubscribe="u")
    assert set(doc) == {"meta", "page", "component", "component_update"}
    assert doc["component_update"]["old_status"] == "operational"
    assert doc["component_update"]["new_status"] == "partial_outage"
