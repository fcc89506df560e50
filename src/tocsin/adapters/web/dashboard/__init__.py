"""The web dashboard: server-rendered pages (Jinja2), forms with CSRF tokens, a live timeline
over server-sent events. Templates and static files live beside this package."""
