"""The public subscription routes of the status page (docs/status-page.md#subscribers).

* ``POST /status/subscribe``: form fields ``email`` and optional ``component`` (repeated); the
  same small page whether or not the address was known, and a confirmation mail for a new or
  unconfirmed one.
* ``GET /status/subscriptions/confirm/<token>``: confirms (the plain link in the mail).
* ``GET`` or ``POST /status/subscriptions/unsubscribe/<token>``: unsubscribes at once (the link,
  and RFC 8058 one-click ``POST``).

No login and no CSRF token: a subscription only starts once its mail is confirmed. Each
``POST /status/subscribe`` takes one try from the client IP's bucket of the shared
failed-attempt limiter (adapters/web/api/ratelimit.py; Redis-shared with TOCSIN_REDIS_URL), so
one client cannot mail many addresses; an empty bucket answers 429 with ``Retry-After``. Bad
input answers 400 naming the field, a body over 8 KB 413.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import structlog
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from tocsin.adapters.web.api.auth import client_ip
from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.status.routes import CONTENT_SECURITY_POLICY
from tocsin.domain.errors import NotFound, ParseError
from tocsin.domain.subscribers import KINDS, STATES
from tocsin.observability.metrics import Metrics
from tocsin.periodic import Starter, every
from tocsin.services import subscribers
from tocsin.services.context import Context

MAX_BODY = 8 * 1024
log = structlog.get_logger("tocsin.status")
_PAGE = Markup(
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<title>{title}</title><link rel="stylesheet" href="/status/status.css"></head>'
    '<body><main class="page"><h1>{title}</h1><p>{text}</p>'
    '<p><a href="/status">Back to the status page</a></p></main></body></html>'
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.decode(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token in the path goes nowhere else
    "Cache-Control": "no-store",
}
SUBSCRIBED = (
    "Check your inbox",
    "If the address can receive mail, a message with a confirmation link is on its way. "
    "Nothing is sent before you confirm.",
)


def page(
    title: str, text: str, status: int = 200, headers: dict[str, str] | None = None
) -> HTMLResponse:
    body = str(_PAGE.format(title=title, text=text))
    return HTMLResponse(body, status, headers={**_HEADERS, **(headers or {})})


async def _form(request: Request) -> dict[str, list[str]] | HTMLResponse:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return page("Too large", "That form is too large.", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return page("Too large", "That form is too large.", 413)
    try:
        return parse_qs(body.decode("utf-8"), max_num_fields=60)
    except (UnicodeDecodeError, ValueError):
        return page("Bad request", "email: send the form as UTF-8 text.", 400)


def subscribe_route(ctx: Context, limiter: FailureLimiter) -> Route:
    async def subscribe(request: Request) -> HTMLResponse:
        key = f"subscribe:{client_ip(request)}"
        wait = await limiter.retry_after(key)
        if wait:
            text = f"Too many subscription requests from here; try again in {wait} seconds."
            return page("Slow down", text, 429, {"Retry-After": str(wait)})
        form = await _form(request)
        if isinstance(form, HTMLResponse):
            return form
        await limiter.failed(key)
        emails = form.get("email", [])
        if len(emails) != 1:
            return page("Bad request", "email: give one email address.", 400)
        try:
            await subscribers.subscribe_email(ctx, emails[0], form.get("component", []))
        except (ParseError, NotFound) as exc:
            return page("Bad request", str(exc), 400)
        return page(*SUBSCRIBED)

    return Route("/status/subscribe", subscribe, methods=["POST"], name="status-subscribe")


def confirm_route(ctx: Context) -> Route:
    async def confirm(request: Request) -> HTMLResponse:
        if await subscribers.confirm(ctx, request.path_params["token"]):
            return page("Subscribed", "You will receive the status page's updates by email.")
        text = "This confirmation link is unknown or has expired; subscribe again on the page."
        return page("Link not valid", text, 404)

    path = "/status/subscriptions/confirm/{token}"
    return Route(path, confirm, methods=["GET"], name="status-confirm")


def unsubscribe_route(ctx: Context) -> Route:
    async def unsubscribe(request: Request) -> HTMLResponse:
        if await subscribers.unsubscribe(ctx, request.path_params["token"]):
            return page("Unsubscribed", "You will receive no more updates from this page.")
        return page("Link not valid", "This unsubscribe link is unknown.", 404)

    path = "/status/subscriptions/unsubscribe/{token}"
    return Route(path, unsubscribe, methods=["GET", "POST"], name="status-unsubscribe")


def routes(ctx: Context, limiter: FailureLimiter, *, email: bool = True) -> list[BaseRoute]:
    """The routes; without ``email`` (no SMTP) nobody can subscribe, but the links of mails
    already sent keep working."""
    links: list[BaseRoute] = [confirm_route(ctx), unsubscribe_route(ctx)]
    return [subscribe_route(ctx, limiter), *links] if email else links


async def refresh_counts(ctx: Context, metrics: Metrics) -> None:
    """``status_subscribers{kind,state}`` from the database (every pair, zeros included)."""
    counts = await subscribers.counts(ctx)
    for kind in KINDS:
        for state in STATES:
            metrics.status_subscribers.labels(kind, state).set(counts.get((kind, state), 0))


def counts_refresher(ctx: Context, metrics: Metrics, interval: float = 30.0) -> Starter:
    """A starter for ``tocsin serve``: refreshes the subscriber counts every ``interval`` s."""
    return every(
        interval,
        lambda: refresh_counts(ctx, metrics),
        name="tocsin-subscriber-counts",
        failed="subscriber counts not refreshed",
    )
