"""Process state the HTTP layer reports: started, ready, draining, and named health checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tocsin.config import Settings

# A check answers None when healthy, or a short reason when not.
Check = Callable[[], Awaitable[str | None]]


@dataclass
class Runtime:
    """Mutable state shared by the lifespan, the signal handler and the health routes."""

    migrations_ok: bool = False
    workers_running: bool = False
    draining: bool = False
    checks: dict[str, Check] = field(default_factory=dict)
    # Checks that only inform (a circuit breaker open towards Slack): reported, not fatal.
    soft_checks: dict[str, Check] = field(default_factory=dict)
    # Resources to release at shutdown (clients the checks use).
    closers: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    async def close(self) -> None:
        for close in self.closers:
            await close()
        self.closers.clear()

    @property
    def ready(self) -> bool:
        return self.migrations_ok and self.workers_running and not self.draining

    def not_ready_reason(self) -> str:
        if self.draining:
            return "draining"
        if not self.migrations_ok:
            return "migrations not at head (run `tocsin db upgrade`)"
        if not self.workers_running:
            return "workers not running"
        return ""


def build_runtime(settings: Settings) -> Runtime:
    """Readiness state and the health checks beyond the database (added by ``create_app``)."""
    runtime = Runtime()
    if settings.redis_url:
        from tocsin.storage import redis  # imported only when configured

        client = redis.connect(settings.redis_url)
        runtime.soft_checks["redis"] = redis.redis_check(client)
        runtime.closers.append(client.aclose)
    return runtime
