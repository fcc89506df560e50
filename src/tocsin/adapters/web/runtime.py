"""Process state the HTTP layer reports: started, ready, draining, and named health checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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
