"""Write the post-mortem from the incident's record, and note on the timeline that it was posted."""

from __future__ import annotations

from tocsin.domain.model import Actor
from tocsin.domain.permissions import decide
from tocsin.domain.postmortem import render_postmortem
from tocsin.services.context import Context, Outcome
from tocsin.services.pipeline import commit_change, deny, load


async def postmortem(ctx: Context, actor: Actor, number: int, *, record: bool = True) -> Outcome:
    """Render the Markdown; with ``record`` (chat's ``postmortem``), add a timeline entry too."""
    async with ctx.uow(read_only=not record) as uow:
        now = ctx.clock()
        incident = await load(uow, number, for_update=record)
        if record:
            decision = decide(ctx.policy, "postmortem", actor, incident)
            if not decision.allowed:
                raise await deny(uow, actor, "postmortem", number, decision.reason, now)
        timeline = await uow.timeline.list(number)
        document = render_postmortem(incident, timeline, now, ctx.public_url)
        if record:
            entries = incident.record_postmortem(actor, now)
            await uow.incidents.save(incident)
            await commit_change(
                uow, ctx, actor, "postmortem", incident, entries, now, reason=decision.reason
            )
    return Outcome(
        f"Post-mortem for {incident.ref} is ready.",
        public=True,
        incident=incident,
        document=document,
    )
