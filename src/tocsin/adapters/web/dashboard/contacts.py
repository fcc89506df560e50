"""The dashboard's My contacts page: the signed-in user's own contact methods (masked) and their
default and urgent rules, with forms to set a contact, remove one and set a rule. Which
``[[person]]`` a dashboard user is comes from the policy file: the person whose ``also`` lists
``web:<username>``. Admins see the page for themselves only. Every form carries the session's
CSRF token and runs the people's use cases (services/person_edits.py) with the user's own actor,
so the "an admin or the person themself" rule applies and each edit is audited, URLs masked."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    current_user,
    flash,
    form_text,
    page,
    refusal,
    signed_in_form,
    to_login,
)
from tocsin.domain.errors import DomainError, PermissionDenied
from tocsin.domain.notify import Person, find_person
from tocsin.domain.person_edits import RULES
from tocsin.services import person_edits as service
from tocsin.services.access.principal import Principal

HERE = "/me/contacts"
MAX_NAME, MAX_URL, MAX_STEPS = 64, 2000, 2000


class ContactPages:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _me(self, principal: Principal) -> Person | None:
        return find_person(await service.list_people(self.deps.ctx), principal.actor.key)

    async def index(self, request: Request) -> Response:
        principal = await current_user(request, self.deps)
        if principal is None:
            return to_login(request)
        me = await self._me(principal)
        contacts = dict(me.masked_contacts()) if me is not None else {}
        rules = {} if me is None else {
            "default": ", ".join(str(s) for s in me.default_rule),
            "urgent": ", ".join(str(s) for s in me.urgent_rule),
        }  # fmt: skip
        return page(request, self.deps, principal, "contacts.html", person=me,
                    contacts=contacts, rules=rules, who=principal.actor.key)  # fmt: skip

    async def set_contact(self, request: Request) -> Response:
        return await self._change(request, "set")

    async def remove_contact(self, request: Request) -> Response:
        return await self._change(request, "remove")

    async def set_rule(self, request: Request) -> Response:
        return await self._change(request, "rule")

    async def _change(self, request: Request, what: str) -> Response:
        principal, form = await signed_in_form(request, self.deps)
        if not isinstance(principal, Principal):
            return principal
        me = await self._me(principal)
        if me is None:
            text = f"No [[person]] in the policy file lists {principal.actor.key} in its also."
            return refusal(request, self.deps, principal, text)
        # the user's own actor, never an admin's widened policy: the page edits only themself
        ctx, actor = self.deps.ctx, principal.actor
        try:
            if what == "set":
                name = form_text(form, "name", "contact name", MAX_NAME)
                url = form_text(form, "url", "contact URL", MAX_URL)
                await service.set_contact(ctx, actor, me.id, name, url)
                flash(request, f"Contact {name} is set.")
            elif what == "remove":
                name = form_text(form, "name", "contact name", MAX_NAME)
                await service.remove_contact(ctx, actor, me.id, name)
                flash(request, f"Contact {name} is removed.")
            else:
                which = form.get("which", "")
                if which not in RULES:
                    which = "default"
                text = form_text(form, "steps", "steps", MAX_STEPS)
                steps = [s.strip() for s in text.split(",") if s.strip()]
                await service.set_rule(ctx, actor, me.id, which, steps)
                flash(request, f"The {which} rule is set.")
        except PermissionDenied as exc:
            return refusal(request, self.deps, principal, exc.message)
        except DomainError as exc:
            flash(request, str(exc), "error")
        return RedirectResponse(HERE, status_code=303)
