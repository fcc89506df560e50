"""The REST API's route table and handlers.

:data:`ENDPOINTS` is the one table the routes *and* the OpenAPI document are built from. Every
handler only translates: it builds a :class:`~tocsin.domain.commands.Command` (or calls a read
use case) and renders the outcome; the services decide, audit and plan effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from tocsin.adapters.views import entry_view, incident_view
from tocsin.adapters.web.api import schemas as s
from tocsin.adapters.web.api.parsing import invalid_fields
from tocsin.domain.audit import AuditEntry
from tocsin.domain.commands import Command
from tocsin.domain.model import Role
from tocsin.domain.validation import Invalid, check_declare
from tocsin.services.access import reads
from tocsin.services.access.commands import read_postmortem, run
from tocsin.services.access.principal import Principal, is_admin
from tocsin.services.context import Context, Outcome


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated, validated API call."""

    request: Request
    ctx: Context
    principal: Principal
    number: int  # the incident of /incidents/{number} routes (0 elsewhere)
    body: Any
    query: Any


Handler = Callable[[Call], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One row of the table: what the route is, what it takes and returns, who may call it."""

    method: str
    path: str
    name: str
    summary: str
    handler: Handler
    scope: str = "read"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    returns: str = "CommandResult"
    tag: str = "incidents"
    errors: tuple[int, ...] = (404,)


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def command_result(outcome: Outcome) -> dict[str, Any]:
    return {
        "message": outcome.message,
        "incident": incident_view(outcome.incident) if outcome.incident else None,
        "entries": [entry_view(e) for e in outcome.timeline],
    }


def page_view(page: reads.Page, items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
    }


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    r = entry.record
    return {
        "seq": entry.seq, "at": r.at.isoformat(), "platform": r.platform,
        "actor_id": r.actor_id, "actor_name": r.actor_name, "command": r.command,
        "incident": r.incident, "decision": r.decision, "reason": r.reason,
        "detail": r.detail, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }  # fmt: skip


# --- handlers ------------------------------------------------------------------------------------
def command(build: Callable[[Call], Command]) -> Handler:
    """A handler that runs the command ``build`` makes from the call."""

    async def handle(call: Call) -> Response:
        return json_response(command_result(await run(call.ctx, call.principal, build(call))))

    return handle


async def list_incidents(call: Call) -> Response:
    q: s.ListQuery = call.query
    page = await reads.search_incidents(
        call.ctx, status=q.status, severity=q.severity, limit=q.limit, offset=q.offset
    )
    return json_response(page_view(page, [incident_view(i) for i in page.items]))


async def declare(call: Call) -> Response:
    b: s.DeclareBody = call.body
    found = check_declare(
        title=b.title, severity=b.severity, description=b.description, commander=b.commander
    )
    if isinstance(found, Invalid):
        return invalid_fields(found.errors, "body")
    outcome = await run(call.ctx, call.principal, found.command(), description=found.description)
    assert outcome.incident is not None
    location = f"/api/v1/incidents/{outcome.incident.number}"
    return json_response(command_result(outcome), 201, {"Location": location})


async def get_incident(call: Call) -> Response:
    outcome = await run(call.ctx, call.principal, Command("show", incident=call.number))
    assert outcome.incident is not None
    view = incident_view(outcome.incident)
    view["timeline"] = [entry_view(e) for e in outcome.timeline]
    return json_response(view)


async def get_postmortem(call: Call) -> Response:
    outcome = await read_postmortem(call.ctx, call.principal, call.number)
    return Response(outcome.document, media_type="text/markdown; charset=utf-8")


async def audit_log(call: Call) -> Response:
    q: s.AuditQuery = call.query
    entries = await reads.audit_entries(call.ctx, call.principal, limit=q.limit, before=q.before)
    more = len(entries) == q.limit and entries[-1].seq > 1
    return json_response(
        {
            "items": [audit_view(e) for e in entries],
            "next_before": entries[-1].seq if more else None,
        }
    )


async def list_deliveries(call: Call) -> Response:
    q: s.DeliveryQuery = call.query
    page = await reads.deliveries(
        call.ctx, call.principal, state=q.state, limit=q.limit, offset=q.offset
    )
    return json_response(page_view(page, page.items))


async def me(call: Call) -> Response:
    p = call.principal
    admin = is_admin(call.ctx.policy, p)
    return json_response({"actor": p.actor.to_dict(), "scope": p.scope, "admin": admin})


def _role(call: Call) -> Command:
    b: s.RoleBody = call.body
    name = "commander" if b.role is Role.COMMANDER else "role"
    return Command(name, incident=call.number, role=b.role, person=s.mention(b.person))


# --- the table -----------------------------------------------------------------------------------
_N = "/v1/incidents/{number}"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/incidents", "listIncidents",
             "List incidents: open first (by severity), then resolved; filter and page.",
             list_incidents, query=s.ListQuery, returns="IncidentPage", errors=()),
    Endpoint("POST", "/v1/incidents", "declareIncident", "Declare an incident.",
             declare, "write", s.DeclareBody, status=201, errors=(403,)),
    Endpoint("GET", _N, "getIncident", "An incident with its roles and full timeline.",
             get_incident, returns="IncidentWithTimeline"),
    Endpoint("POST", f"{_N}/updates", "postUpdate", "Post a status update.",
             command(lambda c: Command("update", incident=c.number, text=c.body.text)),
             "write", s.UpdateBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/notes", "addNote", "Add a note to the timeline.",
             command(lambda c: Command("note", incident=c.number, text=c.body.text)),
             "write", s.NoteBody, errors=(403, 404)),
    Endpoint("POST", f"{_N}/severity", "changeSeverity", "Change the severity (commander).",
             command(lambda c: Command("severity", incident=c.number, severity=c.body.severity)),
             "write", s.SeverityBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/status", "changeStatus", "Move along the lifecycle (commander).",
             command(lambda c: Command("status", incident=c.number, status=c.body.status)),
             "write", s.StatusBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/roles", "assignRole",
             "Hand over command or give someone a role (commander).",
             command(_role), "write", s.RoleBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/ack", "acknowledge", "Acknowledge the page: you are on it.",
             command(lambda c: Command("ack", incident=c.number)),
             "write", s.EmptyBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/join", "join", "Join the incident as a participant.",
             command(lambda c: Command("join", incident=c.number)),
             "write", s.EmptyBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/actions", "addAction", "Record a follow-up action item.",
             command(lambda c: Command("action", incident=c.number, text=c.body.text,
                                       person=s.mention(c.body.owner))),
             "write", s.ActionBody, errors=(403, 404)),
    Endpoint("POST", f"{_N}/resolve", "resolve", "Resolve the incident (commander).",
             command(lambda c: Command("resolve", incident=c.number, text=c.body.summary)),
             "write", s.ResolveBody, errors=(403, 404, 409)),
    Endpoint("POST", f"{_N}/reopen", "reopen", "Reopen a resolved incident (commander).",
             command(lambda c: Command("reopen", incident=c.number)),
             "write", s.EmptyBody, errors=(403, 404, 409)),
    Endpoint("PUT", f"{_N}/public-summary", "setPublicSummary",
             "Publish or replace the public post-mortem summary (commander; shown on the status "
             "page's history once resolved).",
             command(lambda c: Command("summary", incident=c.number, text=c.body.text,
                                       verb="set")),
             "write", s.PublicSummaryBody, errors=(403, 404, 409)),
    Endpoint("DELETE", f"{_N}/public-summary", "removePublicSummary",
             "Remove the public post-mortem summary (commander).",
             command(lambda c: Command("summary", incident=c.number, verb="clear")),
             "write", errors=(403, 404, 409)),
    Endpoint("GET", f"{_N}/postmortem", "getPostmortem",
             "The post-mortem as Markdown (reading it records nothing).",
             get_postmortem, returns="markdown"),
    Endpoint("GET", "/v1/audit", "auditLog", "The audit log, newest first (admins).",
             audit_log, "admin", query=s.AuditQuery, returns="AuditPage", tag="admin",
             errors=(403,)),
    Endpoint("GET", "/v1/deliveries", "listDeliveries",
             "Outbox rows: what tocsin is delivering or gave up on (admins).",
             list_deliveries, "admin", query=s.DeliveryQuery, returns="DeliveryPage",
             tag="admin", errors=(403,)),
    Endpoint("GET", "/v1/me", "whoAmI", "The caller: actor, scope and whether it is an admin.",
             me, returns="Me", tag="access", errors=()),
)  # fmt: skip
