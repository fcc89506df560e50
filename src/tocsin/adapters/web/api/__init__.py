"""The REST API under ``/api/v1`` (OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``).

endpoints   the route table and handlers (the OpenAPI document is built from the same table)
documented  routes served elsewhere (on-call, status page), described for the same document
app         the Starlette app mounted at /api: auth, validation, problem details
auth        bearer tokens; failed attempts rate-limited per client IP (ratelimit)
problems    RFC 9457 problem details and how domain errors map to HTTP statuses
mount       everything the web access issue adds to the server: API, dashboard, static files
"""
