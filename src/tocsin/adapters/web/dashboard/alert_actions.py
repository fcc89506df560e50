"""The Alerts page's buttons: Acknowledge, Silence (1h / 4h / 24h) and Declare incident on each
firing group (``POST /alert-groups/{id}/ack|silence|declare``).

Behind sign-in; forms carrying the session's CSRF token, needing the ``write`` scope (as the REST
calls do) and running the same use cases as the CLI, the API and the chat buttons
(services/alerts/groups.py ``ack_group``, ``silence_group``, ``declare_group``), so the policy's
``alerts`` and ``declare`` permissions apply and every attempt, refusals included, is audited.
The answer is a flash message on the Alerts page (or, after a declaration, on the incident's page).
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tocsin.adapters.web.dashboard.session import (
    Deps,
    flash,
    not_found,
    refusal,
    signed_in_form,
)
from tocsin.domain.errors import DomainError, NotFound
from tocsin.services.access.principal import WRITE, Principal, acting_context, has_scope
from tocsin.services.alerts import groups

HERE = "/alert-groups"
SILENCE_HOURS = (1, 4, 24)  # the choices of the Silence select, as on the chat buttons
_VERBS = {"ack": "acknowledge", "silence": "silence", "declare": "declare an incident for"}


def silence_length(value: str | None) -> timedelta | None:
    """The Silence select's ``hours`` (one of :data:`SILENCE_HOURS`); None for anything else."""
    if value is None or not value.isdigit() or int(value) not in SILENCE_HOURS:
        return None
    return timedelta(hours=int(value))


class AlertActions:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def submit(self, request: Request) -> Response:
        principal, form = await signed_in_form(request, self.deps)
        if not isinstance(principal, Principal):
            return principal
        # an unknown action is a 404 before the scope is checked
        act, group_id = request.path_params["act"], int(request.path_params["group_id"])
        if act not in _VERBS:
            return not_found(request, self.deps, principal, "There is no such alert group action.")
        if not has_scope(principal, WRITE):
            text = "Acting on alert groups needs the write scope."
            return refusal(request, self.deps, principal, text)
        ctx = acting_context(self.deps.ctx, principal)
        try:
            kept = await groups.get_group(ctx, group_id)
            if not kept.group.firing:
                flash(request, f"Alert group #{group_id} has resolved: its alerts stopped "
                      f"firing, so there is nothing to {_VERBS[act]} it.", "error")  # fmt: skip
                return RedirectResponse(HERE, status_code=303)
            if act == "ack":
                kept = await groups.ack_group(ctx, principal.actor, group_id)
                done = f"Alert group #{group_id} is acknowledged: its paging stops."
            elif act == "silence":
                length = silence_length(form.get("hours"))
                if length is None:
                    choices = ", ".join(f"{h}h" for h in SILENCE_HOURS)
                    flash(request, f"Choose how long to silence it for: {choices}.", "error")
                    return RedirectResponse(HERE, status_code=303)
                kept = await groups.silence_group(ctx, principal.actor, group_id, length)
                done = f"Alert group #{group_id} is silenced for {form['hours']}h."
            else:
                kept = await groups.declare_group(ctx, principal.actor, group_id)
                assert kept.incident is not None  # a declaration attaches the group
                flash(request, f"INC-{kept.incident} declared for alert group #{group_id}.")
                return RedirectResponse(f"/incidents/{kept.incident}", status_code=303)
        except NotFound as exc:
            return not_found(request, self.deps, principal, exc.message)
        except DomainError as exc:  # refused by the policy, already declared, already acked
            flash(request, exc.message, "error")
            return RedirectResponse(HERE, status_code=303)
        flash(request, f"{done} ({kept.group.title})")
        return RedirectResponse(HERE, status_code=303)
