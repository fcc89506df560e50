"""The forms on an incident's page: each posts to ``/incidents/{n}/{command}`` and runs that
command through the shared services; the answer comes back as a flash message (post, redirect,
get), so reloading never submits twice."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    Form,
    flash,
    form_text,
    signed_in_form,
)
from tocsin.domain.commands import MAX_TEXT, Command, Mention
from tocsin.domain.errors import ConcurrentUpdate, DomainError, ParseError
from tocsin.domain.model import Role, Severity, Status
from tocsin.services.access.commands import run
from tocsin.services.access.principal import Principal


def _person(form: Form, name: str, what: str, required: bool = True) -> Mention | None:
    value = form_text(form, name, what, 200, required).removeprefix("@")
    return Mention(value) if value else None


def _choice(form: Form, name: str, kind: type[Severity] | type[Status] | type[Role]) -> str:
    value = form.get(name, "")
    if value not in {member.value for member in kind}:
        raise ParseError(f"Choose a {name} from the list.")
    return value


def _text(form: Form, what: str, required: bool = True) -> str:
    return form_text(form, "text", what, MAX_TEXT, required)


BUILDERS: dict[str, Callable[[int, Form], Command]] = {
    "update": lambda n, f: Command("update", incident=n, text=_text(f, "update")),
    "note": lambda n, f: Command("note", incident=n, text=_text(f, "note")),
    "action": lambda n, f: Command(
        "action", incident=n, text=_text(f, "action item"),
        person=_person(f, "owner", "owner", required=False),
    ),
    "ack": lambda n, f: Command("ack", incident=n),
    "join": lambda n, f: Command("join", incident=n),
    "severity": lambda n, f: Command(
        "severity", incident=n, severity=Severity(_choice(f, "severity", Severity))
    ),
    "status": lambda n, f: Command(
        "status", incident=n, status=Status(_choice(f, "status", Status))
    ),
    "commander": lambda n, f: Command(
        "commander", incident=n, role=Role.COMMANDER, person=_person(f, "person", "new commander")
    ),
    "role": lambda n, f: Command(
        "role", incident=n, role=Role(_choice(f, "role", Role)),
        person=_person(f, "person", "person"),
    ),
    "resolve": lambda n, f: Command("resolve", incident=n, text=_text(f, "summary", False)),
    "reopen": lambda n, f: Command("reopen", incident=n),
}  # fmt: skip


class Forms:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def submit(self, request: Request) -> Response:
        principal, form = await signed_in_form(request, self.deps)
        if not isinstance(principal, Principal):
            return principal
        number = int(request.path_params["number"])
        build = BUILDERS.get(str(request.path_params["command"]))
        if build is None:
            flash(request, "That is not something this page can do.", "error")
        else:
            try:
                outcome = await run(self.deps.ctx, principal, build(number, form))
                flash(request, outcome.message)
            except (DomainError, ConcurrentUpdate) as exc:
                flash(request, str(exc), "error")
        return RedirectResponse(f"/incidents/{number}", status_code=303)
