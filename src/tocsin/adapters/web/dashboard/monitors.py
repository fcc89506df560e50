"""The dashboard's Monitors pages: every monitor with its status, and one monitor's definition,
state, response-time chart (an inline SVG drawn on the server: the CSP allows no script here) and
recent failures. Behind sign-in; Pause and Resume are forms carrying the session's CSRF token,
need the ``write`` scope (as the REST calls do) and run the same use case as the CLI and the API
(services/monitors/record.py ``set_paused``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    csrf_failed,
    current_user,
    flash,
    page,
    read_form,
    refusal,
    safe_next,
    to_login,
)
from tocsin.domain.errors import DomainError, NotFound, ParseError
from tocsin.domain.monitors.chart import RANGES
from tocsin.services.access.principal import WRITE, Principal, has_scope
from tocsin.services.monitors.history import chart_range, monitor_history
from tocsin.services.monitors.record import set_paused
from tocsin.services.monitors.views import monitors_with_state

HERE = "/monitors"


class MonitorPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def index(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        rows = await monitors_with_state(self.deps.ctx)
        return page(request, self.deps, principal, "monitors.html", rows=rows,
                    can_write=has_scope(principal, WRITE))  # fmt: skip

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
            return self._not_found(request, principal, exc)
        return page(request, self.deps, principal, "monitor.html", found=found,
                    ranges=tuple(RANGES), can_write=has_scope(principal, WRITE))  # fmt: skip

    async def pause(self, request: Request) -> Response:
        return await self._set_paused(request, True)

    async def resume(self, request: Request) -> Response:
        return await self._set_paused(request, False)

    async def _set_paused(self, request: Request, paused: bool) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        form = await read_form(request)
        if form is None:
            return csrf_failed(request, self.deps, principal)
        if not has_scope(principal, WRITE):
            text = "Pausing and resuming monitors needs the write scope."
            return refusal(request, self.deps, principal, text)
        name = request.path_params["name"]
        try:
            state = await set_paused(self.deps.ctx, name, paused)
        except NotFound as exc:
            return self._not_found(request, principal, exc)
        except DomainError as exc:
            flash(request, str(exc), "error")
        else:
            done = "paused" if paused else f"resumed; it is {state.status} until its next check"
            flash(request, f'Monitor "{name}" is {done}.')
        return RedirectResponse(safe_next(form.get("next") or HERE), status_code=303)

    def _not_found(self, request: Request, principal: Principal, exc: NotFound) -> Response:
        return page(request, self.deps, principal, "error.html", 404,
                    title="Not found", message=exc.message)  # fmt: skip
