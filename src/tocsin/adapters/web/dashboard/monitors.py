"""The dashboard's Monitors pages: every monitor with its status and a form to add one, and one
monitor's definition, state, response-time chart (an inline SVG drawn on the server: the CSP
allows no script here) and recent failures, with a Delete button for a stored monitor. Behind
sign-in; Add, Delete, Pause and Resume are forms carrying the session's CSRF token, need the
``write`` scope (as the REST calls do) and run the same use cases as the CLI and the API
(services/monitors/manage.py ``add_monitor`` and ``delete_monitor``, services/monitors/record.py
``set_paused``). A user who is not an admin adds a restricted monitor, as a write token does
(public addresses only, docs/monitors.md "Private addresses")."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.monitor_form import KINDS, MAX_FIELD, read_definition
from tocsin.adapters.web.dashboard.session import (
    Deps,
    Form,
    current_user,
    flash,
    not_found,
    page,
    safe_next,
    signed_in_form,
    to_login,
)
from tocsin.domain.errors import DomainError, InvalidTransition, NotFound, ParseError
from tocsin.domain.monitor_definition import MonitorInvalid
from tocsin.domain.monitors.chart import RANGES
from tocsin.domain.policy import COMPONENT_STATUSES
from tocsin.services.access.principal import WRITE, Principal, acting_context, has_scope, is_admin
from tocsin.services.monitors.history import chart_range, monitor_history
from tocsin.services.monitors.manage import add_monitor, delete_monitor
from tocsin.services.monitors.record import set_paused
from tocsin.services.monitors.views import monitors_with_state
from tocsin.services.public_status_page import components

HERE = "/monitors"


def _page_of(name: str) -> str:
    return f"{HERE}/{quote(name, safe='')}"


class MonitorPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def index(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        return await self._list(request, principal)

    async def create(self, request: Request) -> Response:
        principal, form = await signed_in_form(request, self.deps, "Adding monitors")
        if not isinstance(principal, Principal):
            return principal
        restricted = not is_admin(self.deps.ctx.policy, principal)
        ctx = acting_context(self.deps.ctx, principal)
        try:
            made = await add_monitor(ctx, read_definition(form), principal.actor, restricted)
        except MonitorInvalid as exc:
            return await self._list(request, principal, form, exc.errors, 400)
        except InvalidTransition as exc:  # the name is taken
            taken = {"name": str(exc).removeprefix("name: ")}
            return await self._list(request, principal, form, taken, 409)
        flash(request, f'Monitor "{made.name}" is added; it is pending until its first check.')
        return RedirectResponse(_page_of(made.name), status_code=303)

    async def delete(self, request: Request) -> Response:
        principal, _ = await signed_in_form(request, self.deps, "Deleting monitors")
        if not isinstance(principal, Principal):
            return principal
        name = request.path_params["name"]
        try:
            await delete_monitor(acting_context(self.deps.ctx, principal), name, principal.actor)
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        except DomainError as exc:  # a policy file's monitor
            flash(request, str(exc), "error")
            return RedirectResponse(_page_of(name), status_code=303)
        flash(request, f'Monitor "{name}" is deleted, with its state and its results.')
        return RedirectResponse(HERE, status_code=303)

    async def detail(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        name = request.path_params["name"]
        try:
            shown = chart_range(request.query_params.get("range"))
            found = await monitor_history(self.deps.ctx, name, shown)
        except ParseError as exc:
            return page(request, self.deps, principal, "error.html", 400,
                        title="Bad range", message=exc.message)  # fmt: skip
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        return page(request, self.deps, principal, "monitor.html", found=found,
                    ranges=tuple(RANGES), can_write=has_scope(principal, WRITE))  # fmt: skip

    async def pause(self, request: Request) -> Response:
        return await self._set_paused(request, True)

    async def resume(self, request: Request) -> Response:
        return await self._set_paused(request, False)

    async def _set_paused(self, request: Request, paused: bool) -> Response:
        principal, form = await signed_in_form(request, self.deps, "Pausing and resuming monitors")
        if not isinstance(principal, Principal):
            return principal
        name = request.path_params["name"]
        try:
            state = await set_paused(self.deps.ctx, name, paused)
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        except DomainError as exc:
            flash(request, str(exc), "error")
        else:
            done = "paused" if paused else f"resumed; it is {state.status} until its next check"
            flash(request, f'Monitor "{name}" is {done}.')
        return RedirectResponse(safe_next(form.get("next") or HERE), status_code=303)

    async def _list(
        self,
        request: Request,
        principal: Principal,
        form: Form | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        """The list with the add form: ``form`` and ``errors`` show a refused one again."""
        rows = await monitors_with_state(self.deps.ctx)
        can_write = has_scope(principal, WRITE)
        known = [c.name for c in await components(self.deps.ctx)] if can_write else []
        return page(request, self.deps, principal, "monitors.html", status, rows=rows,
                    can_write=can_write, form=form or {}, errors=errors or {}, kinds=KINDS,
                    components=known, statuses=COMPONENT_STATUSES,
                    max_field=MAX_FIELD)  # fmt: skip
