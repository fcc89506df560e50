"""What the app does to the garbage collector around its lifetime."""

from __future__ import annotations

import gc

from tocsin.adapters.web.app import create_app
from tocsin.adapters.web.runtime import Runtime
from tocsin.observability.metrics import create_metrics
from tocsin.services.context import Context


async def test_start_up_heap_is_frozen_while_serving_and_released_after(ctx: Context) -> None:
    """Once started, what start-up built is out of the collector's sight (gc.freeze: full
    collections no longer walk it, which showed as tail latency under load); once stopped it is
    handed back, so a process that starts many apps (the tests) does not keep them forever."""
    app = create_app(ctx, create_metrics(process=False), Runtime())
    gc.unfreeze()
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
