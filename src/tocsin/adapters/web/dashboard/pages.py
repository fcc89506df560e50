"""Dashboard pages: sign-in, the incident list, an incident, declare, post-mortem, audit, the
firing alert groups."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.api.auth import client_ip
from tocsin.adapters.web.dashboard.alert_actions import SILENCE_HOURS
from tocsin.adapters.web.dashboard.events import ALERT_ROWS, alert_row
from tocsin.adapters.web.dashboard.session import (
    Deps,
    Form,
    csrf_failed,
    current_user,
    flash,
    not_found,
    page,
    read_form,
    refusal,
    safe_next,
    signed_in_form,
    to_login,
)
from tocsin.domain.errors import DomainError, NotFound, PermissionDenied
from tocsin.domain.model import Severity, Status
from tocsin.domain.validation import Invalid, check_declare
from tocsin.services.access import reads
from tocsin.services.access.commands import allowed_commands, read_postmortem, run
from tocsin.services.access.principal import WRITE, Principal, has_scope
from tocsin.services.access.users import login as check_login
from tocsin.services.alerts.groups import list_groups
from tocsin.services.queries import FIRING_STATUSES

SEVERITIES = tuple(Severity)
STATUSES = tuple(Status)
PAGE_SIZE = 25


def _int(value: str | None, default: int = 0) -> int:
    return int(value) if value is not None and value.isdigit() and len(value) < 10 else default


class Pages:
    """The GET pages and the two forms that are not about one incident (sign-in, declare)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def login_form(self, request: Request) -> Response:
        if await current_user(request, self.deps) is not None:
            return RedirectResponse("/", status_code=303)
        target = safe_next(request.query_params.get("next"))
        return page(request, self.deps, None, "login.html", next=target, username="")

    async def login(self, request: Request) -> Response:
        deps, key = self.deps, client_ip(request)
        form = await read_form(request)
        if form is None:
            return csrf_failed(request, deps, None)
        target, username = safe_next(form.get("next")), form.get("username", "").strip()
        wait = await deps.limiter.retry_after(key)
        if wait:
            flash(request, f"Too many failed sign-ins; try again in {wait} seconds.", "error")
            response = page(request, deps, None, "login.html", 429, next=target, username=username)
            response.headers["Retry-After"] = str(wait)
            return response
        principal = await check_login(deps.ctx, username, form.get("password", ""))
        if principal is None:
            await deps.limiter.failed(key)
            flash(request, "That username and password do not match.", "error")
            return page(request, deps, None, "login.html", 401, next=target, username=username)
        request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
        request.session["user"] = principal.actor.user_id
        return RedirectResponse(target, status_code=303)

    async def logout(self, request: Request) -> Response:
        if await read_form(request) is None:
            return csrf_failed(request, self.deps, await current_user(request, self.deps))
        request.session.clear()
        flash(request, "You are signed out.")
        return RedirectResponse("/login", status_code=303)

    async def incidents(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        params = request.query_params
        shown = params.get("status", "open")
        shown = shown if shown in reads.STATUS_FILTERS else "open"
        severity = params.get("severity", "")
        level = Severity(severity) if severity in SEVERITIES else None
        result = await reads.search_incidents(
            self.deps.ctx, status=shown, severity=level, limit=PAGE_SIZE,
            offset=_int(params.get("offset")),
        )  # fmt: skip
        return page(
            request, self.deps, principal, "list.html", page=result, shown=shown,
            severity=level.value if level else "", severities=SEVERITIES,
        )  # fmt: skip

    async def alert_groups(self, request: Request) -> Response:
        """The firing alert groups, kept live by ``/alert-groups/events`` (static/alerts.js)."""
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        found = await list_groups(self.deps.ctx, statuses=FIRING_STATUSES, limit=ALERT_ROWS)
        rows = [alert_row(kept) for kept in found]
        return page(request, self.deps, principal, "alerts.html", groups=rows,
                    can_write=has_scope(principal, WRITE), silence_hours=SILENCE_HOURS)  # fmt: skip

    async def incident(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        number = int(request.path_params["number"])
        try:
            found = await reads.incident_page(self.deps.ctx, number)
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        allowed = allowed_commands(self.deps.ctx, principal, found.incident)
        return page(
            request, self.deps, principal, "incident.html", incident=found.incident,
            timeline=found.timeline, last_id=found.last_id, allowed=allowed,
            severities=SEVERITIES, statuses=STATUSES,
        )  # fmt: skip

    async def declare_form(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        default = self.deps.ctx.policy.default_severity.value
        return page(request, self.deps, principal, "declare.html", severities=SEVERITIES,
                    values={"severity": default})  # fmt: skip

    async def declare(self, request: Request) -> Response:
        principal, form = await signed_in_form(request, self.deps)
        if not isinstance(principal, Principal):
            return principal
        found = check_declare(
            title=form.get("title"),
            severity=form.get("severity"),
            description=form.get("description"),
            commander=form.get("commander"),
        )
        if isinstance(found, Invalid):
            return self._declare_again(request, principal, form, found.message)
        try:
            outcome = await run(
                self.deps.ctx, principal, found.command(), description=found.description
            )
        except DomainError as exc:
            return self._declare_again(request, principal, form, exc.message)
        assert outcome.incident is not None
        flash(request, outcome.message)
        return RedirectResponse(f"/incidents/{outcome.incident.number}", status_code=303)

    def _declare_again(
        self, request: Request, principal: Principal, form: Form, message: str
    ) -> Response:
        """The declare form again, as it was filled in, with what is wrong (422)."""
        flash(request, message, "error")
        return page(request, self.deps, principal, "declare.html", 422,
                    severities=SEVERITIES, values=form)  # fmt: skip

    async def postmortem(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        number = int(request.path_params["number"])
        try:
            outcome = await read_postmortem(self.deps.ctx, principal, number)
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        if request.url.path.endswith(".md"):
            disposition = f'attachment; filename="INC-{number}-postmortem.md"'
            return Response(outcome.document, media_type="text/markdown; charset=utf-8",
                            headers={"Content-Disposition": disposition})  # fmt: skip
        return page(request, self.deps, principal, "postmortem.html",
                    incident=outcome.incident, document=outcome.document)  # fmt: skip

    async def audit(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        before = _int(request.query_params.get("before")) or None
        try:
            entries = await reads.audit_entries(self.deps.ctx, principal, limit=50, before=before)
        except PermissionDenied as exc:
            return refusal(request, self.deps, principal, exc.message)
        more = len(entries) == 50 and entries[-1].seq > 1
        return page(request, self.deps, principal, "audit.html", entries=entries,
                    next_before=entries[-1].seq if more else None)  # fmt: skip
