"""The alert intake's HTTP routes: ``POST /alerts/<id>/<secret>`` (or ``/alerts/<id>`` with
``Authorization: Bearer <secret>``, or Grafana's signature headers); a heartbeat's URL takes GET
too (405 for the other kinds).

Answers: 202 once the body is committed to the inbox (also for a redelivery, which is not stored
again); 401 for a wrong or missing secret or signature; 404 for an unknown integration; 400 for a
body that is not JSON or not in the integration's format, naming the field; 413 over 1 MiB (the
guard layer, :mod:`tocsin.adapters.web.guards`). Nothing is stored for a refused body, and each
refusal is counted in ``alert_intake_rejected_total``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tocsin.observability.metrics import Metrics
from tocsin.responses import JSONResponse
from tocsin.services.alerts.intake import Credentials, Rejected, accept
from tocsin.services.alerts.integrations import SIGNATURE_HEADER, TIMESTAMP_HEADERS
from tocsin.services.context import Context

PREFIX = "/alerts/"


def _credentials(request: Request) -> Credentials:
    secret = request.path_params.get("secret", "")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if not secret and scheme.lower() == "bearer":
        secret = token.strip()
    timestamp = next((request.headers[h] for h in TIMESTAMP_HEADERS if h in request.headers), "")
    return Credentials(secret, request.headers.get(SIGNATURE_HEADER, ""), timestamp)


def alert_intake_routes(ctx: Context, metrics: Metrics | None = None) -> list[BaseRoute]:
    async def intake(request: Request) -> Response:
        body = await request.body()
        try:
            accepted = await accept(
                ctx, request.path_params["id"], body, _credentials(request), method=request.method
            )
        except Rejected as exc:
            if metrics is not None:
                metrics.alert_intake_rejected_total.labels(exc.reason).inc()
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        if accepted.duplicate and metrics is not None:
            metrics.alerts_deduplicated_total.inc()
        return JSONResponse({"accepted": True, "duplicate": accepted.duplicate}, status_code=202)

    return [
        Route("/alerts/{id}/{secret}", intake, methods=["POST", "GET"]),
        Route("/alerts/{id}", intake, methods=["POST", "GET"]),
    ]
