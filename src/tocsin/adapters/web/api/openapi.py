"""The OpenAPI 3.1 document, built from :data:`~tocsin.adapters.web.api.endpoints.ENDPOINTS`
and :data:`~tocsin.adapters.web.api.documented.OTHER_ENDPOINTS` (together :data:`ALL_ENDPOINTS`).

Request schemas come from the pydantic models; response schemas are written out below (they
describe :mod:`tocsin.adapters.views`, which the CLI's ``--json`` shares).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic.json_schema import models_json_schema

from tocsin import __version__
from tocsin.adapters.web.api.documented import MORE_SCHEMAS, OTHER_ENDPOINTS
from tocsin.adapters.web.api.endpoints import ENDPOINTS, Endpoint
from tocsin.adapters.web.api.monitors import MONITOR_ENDPOINTS, MONITOR_SCHEMAS
from tocsin.adapters.web.api.people import PEOPLE_ENDPOINTS
from tocsin.adapters.web.api.problems import PROBLEM_MEDIA_TYPE, PROBLEMS
from tocsin.adapters.web.api.schemas import MAX_INT
from tocsin.adapters.web.api.subscribers import SUBSCRIBER_ENDPOINTS, SUBSCRIBER_SCHEMAS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


_STR: dict[str, Any] = {"type": "string"}
_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_INT: dict[str, Any] = {"type": "integer"}
_NEXT: dict[str, Any] = {"type": ["integer", "null"]}

RESPONSE_SCHEMAS: dict[str, Any] = {
    "Actor": _obj(["platform", "user_id"], platform=_STR, user_id=_STR, display_name=_STR),
    "TimelineEntry": _obj(["at", "actor", "kind", "text"], at=_TIME, actor=_ref("Actor"),
                          kind=_STR, text=_STR, data={"type": "object"}),
    "ActionItem": _obj(["number", "text"], number=_INT, text=_STR,
                       owner={"oneOf": [_ref("Actor"), {"type": "null"}]},
                       done={"type": "boolean"}, created_at=_TIME),
    "Incident": _obj(
        ["id", "number", "title", "severity", "status"],
        id={"type": "string", "examples": ["INC-12"]}, number=_INT, title=_STR,
        severity={"enum": ["P1", "P2", "P3", "P4"]},
        status={"enum": ["investigating", "identified", "monitoring", "resolved"]},
        description=_STR, summary=_STR, declared_by=_ref("Actor"), declared_at=_TIME,
        acknowledged_at=_TIME, identified_at=_TIME, mitigated_at=_TIME, resolved_at=_TIME,
        roles={"type": "object", "additionalProperties": _ref("Actor")},
        participants={"type": "array", "items": _ref("Actor")},
        action_items={"type": "array", "items": _ref("ActionItem")},
        public_summary={"oneOf": [_ref("PublicSummary"), {"type": "null"}]},
    ),
    "PublicSummary": _obj(["text", "published_at", "published_by"], text=_STR,
                          published_at=_TIME, published_by=_ref("Actor")),
    "IncidentWithTimeline": {"allOf": [_ref("Incident"), _obj(
        ["timeline"], timeline={"type": "array", "items": _ref("TimelineEntry")})]},
    "IncidentPage": _obj(["items", "total", "limit", "offset", "next_offset"],
                         items={"type": "array", "items": _ref("Incident")}, total=_INT,
                         limit=_INT, offset=_INT, next_offset=_NEXT),
    "CommandResult": _obj(["message", "incident", "entries"], message=_STR,
                          incident=_ref("Incident"),
                          entries={"type": "array", "items": _ref("TimelineEntry")}),
    "AuditEntry": _obj(["seq", "at", "platform", "actor_id", "command", "decision"],
                       seq=_INT, at=_TIME, platform=_STR, actor_id=_STR, actor_name=_STR,
                       command=_STR, incident={"type": ["integer", "null"]},
                       decision={"enum": ["allowed", "denied", "error"]}, reason=_STR,
                       detail=_STR, prev_hash=_STR, hash=_STR),
    "AuditPage": _obj(["items", "next_before"],
                      items={"type": "array", "items": _ref("AuditEntry")}, next_before=_NEXT),
    "Delivery": _obj(["id", "destination", "kind", "state", "attempts"], id=_INT,
                     incident={"type": ["integer", "null"]}, destination=_STR, kind=_STR,
                     state=_STR, attempts=_INT, last_error={"type": ["string", "null"]},
                     created_at=_TIME, next_attempt_at=_TIME, delivered_at=_TIME),
    "DeliveryPage": _obj(["items", "total", "limit", "offset", "next_offset"],
                         items={"type": "array", "items": _ref("Delivery")}, total=_INT,
                         limit=_INT, offset=_INT, next_offset=_NEXT),
    "Me": _obj(["actor", "scope", "admin"], actor=_ref("Actor"),
               scope={"enum": ["read", "write", "admin"]}, admin={"type": "boolean"}),
    "Problem": _obj(["type", "title", "status", "detail"], type=_STR, title=_STR,
                    status=_INT, detail=_STR,
                    errors={"type": "array", "items": _obj(["field", "message"], field=_STR,
                                                           message=_STR)}),
}  # fmt: skip

ALL_ENDPOINTS: tuple[Endpoint, ...] = (
    *ENDPOINTS,
    *OTHER_ENDPOINTS,
    *SUBSCRIBER_ENDPOINTS,
    *PEOPLE_ENDPOINTS,
    *MONITOR_ENDPOINTS,
)
"""Every ``/api/v1`` route, as the document and ``/api/docs`` list them."""

_PATH_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "number": ("The incident: 12 or INC-12",
               {"type": "string", "pattern": r"^(?:[Ii][Nn][Cc]-?|#)?[1-9][0-9]{0,8}$"}),
    "name": ("The name (of the schedule, the status page component, the contact method or "
             "the monitor)",
             {"type": "string", "minLength": 1}),
    "person": ("A person: their id (slack:U0ALICE), one of their also ids, or their name",
               {"type": "string", "minLength": 1}),
    "rule": ("Which rule", {"enum": ["default", "urgent"]}),
    "id": ("The id (of the override, the maintenance, the subscriber or the alert group)",
           {"type": "integer", "minimum": 1, "maximum": MAX_INT}),
}  # fmt: skip
_PARAM_RE = re.compile(r"\{(\w+)\}")
_MEDIA = {"markdown": "text/markdown", "calendar": "text/calendar"}  # returns that are not JSON


def _problem_response(status: int) -> dict[str, Any]:
    title = next(t for code, t, _ in PROBLEMS.values() if code == status)
    return {"description": title, "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref("Problem")}}}


def _success(endpoint: Endpoint) -> dict[str, Any]:
    if endpoint.returns in _MEDIA:
        content = {_MEDIA[endpoint.returns]: {"schema": {"type": "string"}}}
    else:
        content = {"application/json": {"schema": _ref(endpoint.returns)}}
    return {"description": "Created" if endpoint.status == 201 else "OK", "content": content}


def _parameters(endpoint: Endpoint, defs: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMS[name][1],
         "description": _PATH_PARAMS[name][0]}
        for name in _PARAM_RE.findall(endpoint.path)
    ]  # fmt: skip
    if endpoint.query is not None:
        for name, prop in defs[endpoint.query.__name__]["properties"].items():
            schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "schema": schema,
                    "description": prop.get("description", ""),
                }
            )
    return params


def statuses(endpoint: Endpoint) -> set[int]:
    """Every error status the operation may answer: authentication (401, 429), the database
    being unavailable (503), its own ``errors``, 404 for a path parameter that names nothing,
    and the body's and query string's validation (400, 413, 415, 422)."""
    found = {401, 429, 503, *endpoint.errors}
    if _PARAM_RE.search(endpoint.path):
        found.add(404)
    if endpoint.body is not None:
        found |= {400, 413, 415, 422}
    if endpoint.query is not None:
        found.add(422)
    return found


def _operation(endpoint: Endpoint, defs: dict[str, Any]) -> dict[str, Any]:
    responses = {str(endpoint.status): _success(endpoint)}
    responses |= {str(code): _problem_response(code) for code in sorted(statuses(endpoint))}
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "x-tocsin-scope": endpoint.scope,
        "parameters": _parameters(endpoint, defs),
        "responses": responses,
    }
    if endpoint.body is not None:
        optional = not endpoint.body.model_json_schema().get("required")
        operation["requestBody"] = {
            "required": not optional,
            "content": {"application/json": {"schema": _ref(endpoint.body.__name__)}},
        }
    return operation


@functools.cache
def openapi_document() -> dict[str, Any]:
    models = {m for e in ALL_ENDPOINTS for m in (e.body, e.query) if m is not None}
    _, top = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    defs: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ALL_ENDPOINTS:
        paths.setdefault("/api" + endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, defs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tocsin REST API",
            "version": __version__,
            "description": "Declare and run incidents. Authenticate with `Authorization: Bearer "
            "<token>` (`tocsin token create --name NAME --scope read|write|admin`). Errors are "
            "problem details (RFC 9457). See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                **RESPONSE_SCHEMAS,
                **MORE_SCHEMAS,
                **SUBSCRIBER_SCHEMAS,
                **MONITOR_SCHEMAS,
                **defs,
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
