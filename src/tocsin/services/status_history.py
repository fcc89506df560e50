"""The status page's incident history (``/status/history``): one read-only unit of work per
page, resolved public incidents with their public updates (rules in
:mod:`tocsin.domain.status_history`)."""

from __future__ import annotations

from collections.abc import Callable

from tocsin.domain.model import Incident
from tocsin.domain.status_history import PER_PAGE, HistoryPage, by_month, page_count
from tocsin.domain.status_view import PageInfo, incident_view
from tocsin.domain.statuspage import is_public
from tocsin.services.context import Context


async def load_history(
    ctx: Context, page: PageInfo, public_id: Callable[[Incident], str], number: int
) -> HistoryPage:
    """Page ``number`` (1-based) of the history; past the last page it is empty."""
    severities = [s.value for s, rule in ctx.policy.severities.items() if rule.statuspage]
    async with ctx.uow(read_only=True) as uow:
        store = uow.status
        found, total = await store.resolved_public(severities, PER_PAGE, (number - 1) * PER_PAGE)
        shown = [i for i in found if is_public(i, ctx.policy)]
        timelines = await store.public_timelines([i.number for i in shown])
    views = [incident_view(i, timelines[i.number], public_id(i)) for i in shown]
    return HistoryPage(page, number, page_count(total, PER_PAGE), total, by_month(views))
