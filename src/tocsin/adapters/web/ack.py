"""``/ack/<token>``: acknowledging a page from a link in a notification that cannot carry
buttons (docs/oncall.md, "Acknowledge links").

GET only shows what the link does and a button, so a link-preview bot (chat apps, mail
scanners) that fetches it acknowledges nothing; the button POSTs the same URL, which spends the
token (once) and runs ``ack`` as the person the link was made for
(:func:`tocsin.services.ack_links.acknowledge_by_link`). A bad, used or expired link gets a page
saying so (400, or 410 once used or expired; 409 when the incident cannot be acknowledged any
more, e.g. it was resolved) and changes nothing but spending the link. Without TOCSIN_SECRET_KEY
no links are made and these routes answer 404.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from tocsin.domain.errors import DomainError
from tocsin.services.ack_links import acknowledge_by_link
from tocsin.services.ack_tokens import MAX_TOKEN, AckLinkError, read_token
from tocsin.services.context import Context

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token must not leak to other sites
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _refused(exc: AckLinkError) -> HTMLResponse:
    text = str(exc)
    status = 410 if "used" in text or "expired" in text else 400
    return _page("Cannot acknowledge", f"<p>{escape(text)}</p>", status)


def ack_routes(ctx: Context, secret: str | None) -> list[BaseRoute]:
    """The two routes (none without a secret key)."""
    if not secret:
        return []

    async def confirm(request: Request) -> HTMLResponse:
        token = str(request.path_params["token"])[: MAX_TOKEN + 1]
        try:
            claim = read_token(secret, token, ctx.clock())
        except AckLinkError as exc:
            return _refused(exc)
        body = (
            f"<p>Acknowledge INC-{claim.incident} as {escape(claim.person)}? This stops the "
            "paging of everyone for this page.</p>"
            f'<form method=post action="/ack/{escape(token)}">'
            '<button type=submit style="font-size:1.2rem;padding:.5rem 1.5rem">Acknowledge'
            "</button></form>"
        )
        return _page(f"Acknowledge INC-{claim.incident}", body)

    async def acknowledge(request: Request) -> HTMLResponse:
        token = str(request.path_params["token"])[: MAX_TOKEN + 1]
        try:
            outcome = await acknowledge_by_link(ctx, secret, token)
        except AckLinkError as exc:
            return _refused(exc)
        except DomainError as exc:  # e.g. the incident was resolved meanwhile
            return _page("Cannot acknowledge", f"<p>{escape(exc.message)}</p>", 409)
        return _page("Acknowledged", f"<p>{escape(outcome.message)}</p>")

    return [
        Route("/ack/{token}", confirm, methods=["GET"], name="ack_link"),
        Route("/ack/{token}", acknowledge, methods=["POST"], name="ack_link_submit"),
    ]
