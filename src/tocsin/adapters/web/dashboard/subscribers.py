"""The dashboard's Subscribers page, for admins: the status page's subscribers (email addresses
and webhooks, their components and state) and a Remove button on each. Behind sign-in; the form
carries the session's CSRF token; the use cases (services/subscribers.py) refuse anyone but an
admin and audit the removal, so a non-admin sees the refusal, as in the CLI and the API."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    current_user,
    flash,
    page,
    refusal,
    signed_in_form,
    to_login,
)
from tocsin.domain.errors import DomainError, PermissionDenied
from tocsin.services import subscribers as service
from tocsin.services.access.principal import Principal, acting_context

HERE = "/subscribers"


class SubscriberPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def index(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        ctx = acting_context(self.deps.ctx, principal)
        try:
            rows = await service.list_subscribers(ctx, principal.actor)
        except PermissionDenied as exc:
            return refusal(request, self.deps, principal, exc.message)
        return page(request, self.deps, principal, "subscribers.html", rows=rows)

    async def remove(self, request: Request) -> Response:
        principal, _ = await signed_in_form(request, self.deps)
        if not isinstance(principal, Principal):
            return principal
        number = int(request.path_params["subscriber_id"])
        ctx = acting_context(self.deps.ctx, principal)
        try:
            await service.remove_subscriber(ctx, principal.actor, number)
            flash(request, f"Subscriber #{number} is removed.")
        except PermissionDenied as exc:
            return refusal(request, self.deps, principal, exc.message)
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)
