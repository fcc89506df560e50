"""What every dashboard page shares: who is signed in, the CSRF token, forms, flash messages.

Sessions live in a signed cookie (Starlette's SessionMiddleware with the secret key): HTTP-only,
SameSite=Lax, ``Secure`` when TOCSIN_PUBLIC_URL is https. The session holds the username and a
CSRF token; the user is loaded from the database on every request, so a deleted user is signed
out at once. Every POST form carries the CSRF token and is refused without it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tocsin.adapters.web.api.ratelimit import FailureLimiter
from tocsin.adapters.web.dashboard.templating import render
from tocsin.domain.errors import ParseError
from tocsin.services.access.principal import WRITE, Principal, has_scope, is_admin
from tocsin.services.access.users import load_user
from tocsin.services.context import Context

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 50
Form = dict[str, str]


class StreamSlots:
    """How many live timelines are open in this process, bounded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def take(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def give_back(self) -> None:
        self.open = max(0, self.open - 1)


@dataclass
class Deps:
    """What the dashboard's handlers need, built once by :func:`dashboard_routes`."""

    ctx: Context
    limiter: FailureLimiter
    streams: StreamSlots = field(default_factory=lambda: StreamSlots(200))
    poll_seconds: float = 1.0
    stream_seconds: float = 300.0
    stopping: Callable[[], bool] = lambda: False  # True while the server drains: streams end


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def flash(request: Request, text: str, kind: str = "info") -> None:
    request.session["flash"] = {"kind": kind, "text": text}


async def current_user(request: Request, deps: Deps) -> Principal | None:
    username = request.session.get("user")
    if not isinstance(username, str):
        return None
    principal = await load_user(deps.ctx, username)
    if principal is None:
        request.session.pop("user", None)
    return principal


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def page(
    request: Request,
    deps: Deps,
    principal: Principal | None,
    template: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with what every page shows: the user, admin links, CSRF, flash."""
    message = request.session.pop("flash", None)
    html = render(
        template,
        user=principal,
        admin=principal is not None and is_admin(deps.ctx.policy, principal),
        csrf=csrf_token(request),
        flash=message if isinstance(message, dict) else None,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def refusal(request: Request, deps: Deps, principal: Principal | None, text: str) -> Response:
    return page(request, deps, principal, "error.html", 403, title="Not allowed", message=text)


def not_found(request: Request, deps: Deps, principal: Principal, message: str) -> Response:
    return page(request, deps, principal, "error.html", 404, title="Not found", message=message)


async def read_form(request: Request) -> Form | None:
    """The urlencoded form, if its CSRF token matches the session's; None otherwise."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if media_type != FORM_MEDIA_TYPE:
        return None
    body = (await request.body()).decode("utf-8", "replace")
    try:
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return None
    form = dict(pairs)
    expected = request.session.get("csrf")
    sent = form.pop("csrf", "")
    if not isinstance(expected, str) or not secrets.compare_digest(sent, expected):
        return None
    return form


def csrf_failed(request: Request, deps: Deps, principal: Principal | None) -> Response:
    text = (
        "This form has expired or did not come from tocsin (its security token is missing or "
        "wrong). Go back, reload the page and try again."
    )
    return refusal(request, deps, principal, text)


async def signed_in_form(
    request: Request, deps: Deps, needs_write: str | None = None
) -> tuple[Principal | Response, Form]:
    """The signed-in user and the form its CSRF token vouches for; otherwise the response that
    refuses (the redirect to sign in, or 403) and an empty form. With ``needs_write`` (what the
    handler does, "Adding monitors"), a user without the ``write`` scope is refused too, the
    page saying "Adding monitors needs the write scope"."""
    principal = await current_user(request, deps)
    if principal is None:
        return to_login(request), {}
    form = await read_form(request)
    if form is None:
        return csrf_failed(request, deps, principal), {}
    if needs_write is not None and not has_scope(principal, WRITE):
        return refusal(request, deps, principal, f"{needs_write} needs the write scope."), {}
    return principal, form


def form_text(form: Form, name: str, what: str, limit: int, required: bool = True) -> str:
    """A trimmed text field; ParseError (shown to the user) when missing or too long."""
    value = form.get(name, "").strip()
    if required and not value:
        raise ParseError(f"Please fill in the {what}.")
    if len(value) > limit:
        raise ParseError(f"The {what} is {len(value)} characters long; keep it to {limit}.")
    return value


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
