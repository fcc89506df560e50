"""The dashboard's routes, each wrapped in the session and security-header layers.

Routes are listed one by one (no catch-all mount at ``/``), so the status page, the chat webhooks
and the health routes that other adapters add keep their paths.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tocsin.adapters.web.api.headers import SecurityHeaders
from tocsin.adapters.web.dashboard.alert_actions import AlertActions
from tocsin.adapters.web.dashboard.contacts import ContactPages
from tocsin.adapters.web.dashboard.events import Events
from tocsin.adapters.web.dashboard.forms import Forms
from tocsin.adapters.web.dashboard.integrations import IntegrationPages
from tocsin.adapters.web.dashboard.maintenance import MaintenancePages
from tocsin.adapters.web.dashboard.monitors import MonitorPages
from tocsin.adapters.web.dashboard.pages import Pages
from tocsin.adapters.web.dashboard.session import Deps
from tocsin.adapters.web.dashboard.subscribers import SubscriberPages

SESSION_COOKIE = "tocsin_session"
SESSION_MAX_AGE = 12 * 60 * 60  # a signed-in session lasts 12 hours
STATIC_PREFIX = "/assets"


def session_layers(secret: str, *, secure: bool) -> list[Middleware]:
    return [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=secure,
        ),
    ]


def dashboard_routes(deps: Deps, secret: str, *, secure: bool) -> list[BaseRoute]:
    """Every dashboard route; ``secure`` marks the session cookie ``Secure`` (https)."""
    pages, forms, events = Pages(deps), Forms(deps), Events(deps)
    maintenance, subscribers = MaintenancePages(deps), SubscriberPages(deps)
    integrations = IntegrationPages(deps)
    contacts = ContactPages(deps)
    monitors = MonitorPages(deps)
    alert_actions = AlertActions(deps)
    layers = session_layers(secret, secure=secure)
    table = [
        ("/", pages.incidents, "GET", "dashboard"),
        ("/login", pages.login_form, "GET", "login"),
        ("/login", pages.login, "POST", "login_submit"),
        ("/logout", pages.logout, "POST", "logout"),
        ("/declare", pages.declare_form, "GET", "declare"),
        ("/declare", pages.declare, "POST", "declare_submit"),
        ("/audit", pages.audit, "GET", "audit"),
        ("/alert-groups", pages.alert_groups, "GET", "alert_groups"),
        ("/alert-groups/events", events.alert_stream, "GET", "alert_group_events"),
        ("/alert-groups/{group_id:int}/{act}", alert_actions.submit, "POST", "alert_group_act"),
        ("/maintenance", maintenance.index, "GET", "maintenance"),
        ("/maintenance", maintenance.create, "POST", "maintenance_create"),
        ("/maintenance/{maintenance_id:int}/edit", maintenance.edit, "POST", "m_edit"),
        ("/maintenance/{maintenance_id:int}/cancel", maintenance.cancel, "POST", "m_cancel"),
        ("/monitors", monitors.index, "GET", "monitors"),
        ("/monitors", monitors.create, "POST", "monitor_create"),
        ("/monitors/{name}", monitors.detail, "GET", "monitor"),
        ("/monitors/{name}/pause", monitors.pause, "POST", "mon_pause"),
        ("/monitors/{name}/resume", monitors.resume, "POST", "mon_resume"),
        ("/monitors/{name}/delete", monitors.delete, "POST", "mon_delete"),
        ("/subscribers", subscribers.index, "GET", "subscribers"),
        ("/subscribers/{subscriber_id:int}/remove", subscribers.remove, "POST", "s_remove"),
        ("/integrations", integrations.index, "GET", "integrations"),
        ("/integrations", integrations.create, "POST", "integration_create"),
        ("/integrations/{name}/rotate", integrations.rotate, "POST", "i_rotate"),
        ("/integrations/{name}/delete", integrations.delete, "POST", "i_delete"),
        ("/me/contacts", contacts.index, "GET", "my_contacts"),
        ("/me/contacts/set", contacts.set_contact, "POST", "my_contact_set"),
        ("/me/contacts/remove", contacts.remove_contact, "POST", "my_contact_remove"),
        ("/me/contacts/rule", contacts.set_rule, "POST", "my_rule_set"),
        ("/incidents/{number:int}", pages.incident, "GET", "incident"),
        ("/incidents/{number:int}/events", events.stream, "GET", "incident_events"),
        ("/incidents/{number:int}/postmortem", pages.postmortem, "GET", "postmortem"),
        ("/incidents/{number:int}/postmortem.md", pages.postmortem, "GET", "postmortem_md"),
        ("/incidents/{number:int}/{command}", forms.submit, "POST", "incident_form"),
    ]
    routes: list[BaseRoute] = [
        Route(path, endpoint, methods=[method], name=name, middleware=layers)
        for path, endpoint, method, name in table
    ]
    static = StaticFiles(packages=[("tocsin.adapters.web.dashboard", "static")])
    routes.append(
        Mount(STATIC_PREFIX, app=static, name="assets",
              middleware=[Middleware(SecurityHeaders, no_store=False)])
    )  # fmt: skip
    return routes
