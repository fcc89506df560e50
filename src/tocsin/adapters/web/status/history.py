"""``GET /status/history?page=N``: the incident history, resolved public incidents by month,
20 a page (:mod:`tocsin.services.status_history`). No login; the same headers as ``/status``
(no script, strict Content-Security-Policy). Each page is read from the database, kept for a few
seconds per page number so that a burst of readers costs one read; a change that drops the
status page cache (``generation`` moves: this process's commits, another replica's through
Redis) drops the kept pages too, so a new public summary shows at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tocsin.adapters.web.status.render import HTML, environment
from tocsin.adapters.web.status.routes import CONTENT_SECURITY_POLICY
from tocsin.domain.model import Incident
from tocsin.domain.status_history import MAX_PAGE, HistoryPage
from tocsin.domain.status_view import PageInfo
from tocsin.services.context import Context
from tocsin.services.status_history import load_history

KEEP_SECONDS = 10.0
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.decode(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "public, max-age=10",
}


def render_history(history: HistoryPage) -> bytes:
    return environment().get_template("history.html").render(history=history).encode()


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_PAGE else None


def history_routes(
    ctx: Context,
    page: PageInfo,
    public_id: Callable[[Incident], str],
    clock: Callable[[], float] = time.monotonic,
    generation: Callable[[], int] = lambda: 0,
) -> list[BaseRoute]:
    """The history route for ``tocsin serve`` (GET and HEAD)."""
    kept: dict[int, tuple[float, int, bytes]] = {}

    async def history(request: Request) -> Response:
        number = _page_number(request)
        if number is None:
            text = f"page: give a page number from 1 to {MAX_PAGE}."
            return Response(text, 400, media_type="text/plain; charset=utf-8")
        hit, now = kept.get(number), generation()
        if hit is None or clock() - hit[0] > KEEP_SECONDS or hit[1] != now:
            body = render_history(await load_history(ctx, page, public_id, number))
            if len(kept) > 100:
                kept.clear()
            hit = kept[number] = (clock(), now, body)
        return Response(hit[2], headers=HEADERS, media_type=HTML)

    return [Route("/status/history", history, methods=["GET", "HEAD"], name="status-history")]
