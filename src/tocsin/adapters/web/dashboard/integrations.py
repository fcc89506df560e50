"""The dashboard's Integrations page, for admins: the alert integrations (name, kind, the URL
without its secret), a form to create one, and Rotate and Delete buttons on each. A new or
rotated integration's full URL (and a Grafana integration's signing secret) is shown once, on
the result page; tocsin keeps only a hash of the secret. Behind sign-in; every form carries the
session's CSRF token; the work is done by the same use cases as the CLI and the API
(services/alerts/integrations.py), so their checks and messages apply here too."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    Form,
    current_user,
    flash,
    page,
    refusal,
    signed_in_form,
    to_login,
)
from tocsin.domain.errors import DomainError, ParseError
from tocsin.services.access.principal import Principal, is_admin
from tocsin.services.alerts import integrations as service

HERE = "/integrations"
KINDS = tuple(kind.value for kind in service.KINDS)
REFUSED = "Only admins can see and change the alert integrations."


def _seconds(form: Form, name: str, what: str) -> timedelta | None:
    """An optional whole number of seconds; ParseError naming the field otherwise."""
    value = form.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ParseError(f"The {what} is a whole number of seconds, not {value[:20]!r}.")
    return timedelta(seconds=int(value))


class IntegrationPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def index(self, request: Request) -> Response:
        principal = await self._admin(request)
        if not isinstance(principal, Principal):
            return principal
        return await self._list(request, principal)

    async def create(self, request: Request) -> Response:
        principal, form = await self._admin_form(request)
        if not isinstance(principal, Principal):
            return principal
        kind, name = form.get("kind", "").strip(), form.get("name", "").strip()
        try:
            heartbeat = kind == "heartbeat"
            period = _seconds(form, "period", "period") if heartbeat else None
            grace = _seconds(form, "grace", "grace") if heartbeat else None
            made = await service.create_integration(
                self.deps.ctx, kind, name, principal.actor.key, period=period, grace=grace
            )
        except DomainError as exc:
            return await self._list(request, principal, error=str(exc), form=form)
        return self._shown_once(request, principal, made, "created")

    async def rotate(self, request: Request) -> Response:
        principal, _ = await self._admin_form(request)
        if not isinstance(principal, Principal):
            return principal
        try:
            made = await service.rotate_integration(self.deps.ctx, request.path_params["name"])
        except DomainError as exc:
            flash(request, str(exc), "error")
            return RedirectResponse(HERE, status_code=303)
        return self._shown_once(request, principal, made, "rotated")

    async def delete(self, request: Request) -> Response:
        principal, _ = await self._admin_form(request)
        if not isinstance(principal, Principal):
            return principal
        name = request.path_params["name"]
        try:
            await service.delete_integration(self.deps.ctx, name)
            flash(request, f'Integration "{name}" is deleted; its URL answers 404 from now on.')
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)

    async def _list(
        self,
        request: Request,
        principal: Principal,
        *,
        error: str | None = None,
        form: Form | None = None,
    ) -> Response:
        rows = await service.list_integrations(self.deps.ctx)
        base = self.deps.ctx.public_url.rstrip("/")
        return page(request, self.deps, principal, "integrations.html",
                    status=400 if error else 200, rows=rows, base=base, kinds=KINDS,
                    error=error, form=form or {})  # fmt: skip

    def _shown_once(
        self, request: Request, principal: Principal, made: service.Created, done: str
    ) -> Response:
        return page(request, self.deps, principal, "integration_created.html",
                    made=made, done=done)  # fmt: skip

    async def _admin(self, request: Request) -> Principal | Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        if not is_admin(self.deps.ctx.policy, principal):
            return refusal(request, self.deps, principal, REFUSED)
        return principal

    async def _admin_form(self, request: Request) -> tuple[Principal | Response, Form]:
        """The signed-in admin and the form; otherwise the response that refuses."""
        principal, form = await signed_in_form(request, self.deps)
        if isinstance(principal, Principal) and not is_admin(self.deps.ctx.policy, principal):
            return refusal(request, self.deps, principal, REFUSED), {}
        return principal, form
