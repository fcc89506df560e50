"""Errors as JSON problem details (RFC 9457): ``type``, ``title``, ``status``, ``detail``.

Each ``type`` is a link into the API's documentation page (``/api/docs#problem-<slug>``), where
the problem is described. How domain errors map (decided here, documented in docs/api.md):

=====================  ======  ===================================================
ParseError             422     the request was understood but is not a valid command
InvalidTransition      409     the incident's state does not allow it (already resolved, ...)
ConcurrentUpdate       409     someone changed the incident at the same moment; retry
PermissionDenied       403     the policy or the token's scope refuses it
NotFound               404     no such incident
=====================  ======  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from tocsin.domain.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    ParseError,
    PermissionDenied,
)
from tocsin.storage.incidents import ConcurrentUpdate

PROBLEM_MEDIA_TYPE = "application/problem+json"

# slug -> (status, title, what it means: shown on /api/docs)
PROBLEMS: Mapping[str, tuple[int, str, str]] = {
    "bad-request": (400, "Malformed request",
                    "The body is not valid JSON, or a required body is missing."),
    "unauthorized": (401, "Authentication required",
                     "No bearer token was sent, or the token is unknown or revoked."),
    "forbidden": (403, "Not allowed",
                  "The token's scope or the policy does not let this caller do that."),
    "not-found": (404, "Not found", "There is no such incident, or no such API route."),
    "method-not-allowed": (405, "Method not allowed", "That route does not take this method."),
    "conflict": (409, "Conflict with the incident's state",
                 "The incident cannot do that now (already resolved, already commander, ...) or "
                 "changed at the same moment; read it again and retry."),
    "unsupported-media-type": (415, "Unsupported media type",
                               "Bodies are JSON: send Content-Type: application/json."),
    "invalid": (422, "Invalid request",
                "The JSON is well-formed but a field is missing, has the wrong type or is out "
                "of range; ``errors`` lists each field."),
    "rate-limited": (429, "Too many failed attempts",
                     "Too many failed authentications from this address; wait Retry-After "
                     "seconds."),
    "internal": (500, "Internal error", "Something failed on tocsin's side; it has been logged."),
}  # fmt: skip


def problem(
    slug: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    status, title, _meaning = PROBLEMS[slug]
    body = {"type": f"/api/docs#problem-{slug}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def slug_for(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return "forbidden"
    if isinstance(exc, NotFound):
        return "not-found"
    if isinstance(exc, InvalidTransition | ConcurrentUpdate):
        return "conflict"
    if isinstance(exc, ParseError):
        return "invalid"
    return "invalid" if isinstance(exc, DomainError) else "internal"


def from_error(exc: DomainError | ConcurrentUpdate) -> Response:
    """The problem response for an error a service raised."""
    return problem(slug_for(exc), str(exc))
