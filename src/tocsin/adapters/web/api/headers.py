"""Security headers for every page and API answer tocsin's web surfaces serve.

The Content-Security-Policy allows scripts, styles and connections from tocsin itself only: no
inline script or style anywhere (the dashboard's JavaScript and CSS are static files), no
framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), forms posting only to tocsin.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders:
    """Adds the headers above; with ``no_store`` also ``Cache-Control: no-store`` unless the
    response set its own (pages behind a login must not sit in shared caches)."""

    def __init__(self, app: ASGIApp, *, no_store: bool = True) -> None:
        self.app = app
        self.no_store = no_store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                extra = [h for h in _HEADERS if h[0] not in present]
                if self.no_store and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
