"""Composition root: settings → database → policy → services context (→ web app and workers).

Nothing is built at import time; ``tocsin serve``, ``tocsin worker``, the CLI and the tests call
these functions with a :class:`~tocsin.config.Settings` they loaded once.
"""

from __future__ import annotations

from tocsin.adapters.web.runtime import Runtime
from tocsin.config import Settings
from tocsin.domain.policy import Policy, default_policy
from tocsin.domain.policy_file import load_policy
from tocsin.services.context import Context
from tocsin.storage.db import Database


def build_policy(settings: Settings) -> Policy:
    """The policy file if one is set (validated: raises PolicyError), else the built-in defaults."""
    if settings.policy_file is None:
        return default_policy()
    return load_policy(settings.policy_file)


def enabled_destinations(settings: Settings) -> frozenset[str]:
    return frozenset(name for name, enabled, _how in settings.platform_status() if enabled)


def build_context(settings: Settings, db: Database | None = None) -> Context:
    return Context(
        db=db or Database(settings.database_url),
        policy=build_policy(settings),
        destinations=enabled_destinations(settings),
        public_url=settings.public_url,
    )


def build_runtime(settings: Settings) -> Runtime:
    """Readiness state and the health checks beyond the database (added by ``create_app``)."""
    runtime = Runtime()
    if settings.redis_url:
        from tocsin.storage import redis  # imported only when configured

        client = redis.connect(settings.redis_url)
        runtime.soft_checks["redis"] = redis.redis_check(client)
        runtime.closers.append(client.aclose)
    return runtime
