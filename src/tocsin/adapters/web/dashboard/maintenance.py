"""The dashboard's Maintenance page: the scheduled windows (upcoming and current, and those of the
last 90 days), a form to schedule one, and per open window a form to edit it and a button to
call it off. Behind sign-in; the forms carry the session's CSRF token like every dashboard form;
scheduling, editing and cancelling need the ``write`` scope (as the REST calls do) and run the
same use cases (services/maintenance.py), so the timers, announcements, subscriber notices and
audit follow. A refused field, or a window that can no longer change (the API's 409), comes back
as the flash message."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    Form,
    current_user,
    flash,
    form_text,
    page,
    signed_in_form,
    to_login,
)
from tocsin.domain import maintenance as rules
from tocsin.domain.errors import DomainError
from tocsin.services import maintenance as service
from tocsin.services.access.principal import WRITE, Principal, has_scope

HERE = "/maintenance"
WRITING = "Scheduling, editing and cancelling maintenance"  # what needs the write scope


class MaintenancePages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def index(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        found = await service.recent(self.deps.ctx)
        now = self.deps.ctx.clock()
        rows = [(m, rules.shown_status(m, now)) for m in sorted(found, key=lambda m: m.starts_at)]
        return page(request, self.deps, principal, "maintenance.html", rows=rows,
                    can_write=has_scope(principal, WRITE))  # fmt: skip

    async def create(self, request: Request) -> Response:
        principal, form = await signed_in_form(request, self.deps, WRITING)
        if not isinstance(principal, Principal):
            return principal
        try:
            fields = _fields(form)
            made = await service.create(
                self.deps.ctx, principal.actor, fields.title or "", fields.start or "",
                fields.end or "", fields.components or (), fields.description or "",
            )  # fmt: skip
            flash(request, f"Maintenance #{made.id} is scheduled.")
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)

    async def edit(self, request: Request) -> Response:
        """The form's fields replace the window's (the same use case as ``tocsin maintenance
        edit`` and ``PATCH /api/v1/maintenances/{id}``); a start or end left as the form showed
        it (to the minute, ``start_was``/``end_was``) stays exactly as it is."""
        principal, form = await signed_in_form(request, self.deps, WRITING)
        if not isinstance(principal, Principal):
            return principal
        number = int(request.path_params["maintenance_id"])
        try:
            fields = _fields(form)
            unchanged = {
                e: None for e in ("start", "end") if form.get(f"{e}_was") == getattr(fields, e)
            }
            await service.edit(self.deps.ctx, principal.actor, number, replace(fields, **unchanged))
            flash(request, f"Maintenance #{number} is saved.")
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)

    async def cancel(self, request: Request) -> Response:
        principal, _ = await signed_in_form(request, self.deps, WRITING)
        if not isinstance(principal, Principal):
            return principal
        number = int(request.path_params["maintenance_id"])
        try:
            await service.cancel(self.deps.ctx, principal.actor, number)
            flash(request, f"Maintenance #{number} is cancelled.")
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)


def _fields(form: Form) -> service.MaintenanceChange:
    """The schedule and edit forms' fields, checked for presence and length (ParseError)."""
    return service.MaintenanceChange(
        title=form_text(form, "title", "title", rules.MAX_TITLE),
        start=form_text(form, "start", "start", 64),
        end=form_text(form, "end", "end", 64),
        components=[c.strip() for c in form.get("components", "").split(",") if c.strip()],
        description=form_text(form, "description", "description", rules.MAX_DESCRIPTION, False),
    )
