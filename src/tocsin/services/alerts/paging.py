"""Paging for ``page`` routes: an alert group walks the route's escalation without an incident.

When a group opens (or fires again), the first level is paged and an ``alert_page`` timer is
armed for the next step (:func:`tocsin.domain.paging.next_step`: the next level after
``escalate_after_minutes``, the ladder again ``repeat`` more times). When it fires, the next level
is paged unless the group has resolved, been acknowledged or silenced, or fired again since (a
new run). Each page's outbox key names the group, the run (when it began firing) and the step,
so a step pages at most once whatever retries or replicas do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tocsin.domain.effects import Effect
from tocsin.domain.model import Actor
from tocsin.domain.oncall import level_targets, schedules_of
from tocsin.domain.paging import ALERT_ACK_BUTTON, CHAT, PAGE_DM, Step, escalation_of, next_step
from tocsin.services.alerts.views import group_payload
from tocsin.services.context import Context
from tocsin.storage.alert_groups import StoredGroup
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext
    from tocsin.services.ports import UnitOfWork

PAGE_TIMER = "alert_page"


def page_key(group_id: int) -> str:
    return f"{PAGE_TIMER}:{group_id}"


@dataclass
class GroupPaging:
    ctx: Context

    async def targets(
        self, uow: UnitOfWork, escalation: str, level: int, now: datetime
    ) -> list[str]:
        """Who is paged at ``level`` of ``escalation`` now (on call, overrides included)."""
        policy = self.ctx.policy
        found = escalation_of(policy, escalation)
        if level >= len(found.levels):
            return []
        targets = found.levels[level]
        names = schedules_of(targets, policy)
        overrides = await uow.overrides.between(names, now, now + timedelta(seconds=1))
        return level_targets(policy, targets, overrides, now)

    async def start(
        self, uow: UnitOfWork, kept: StoredGroup, escalation: str, severity: str, now: datetime
    ) -> None:
        """Page the first level for this firing of the group and arm the next step."""
        assert kept.group.fired_at is not None  # an opening group has fired
        await self._page(uow, kept, Step(escalation, kept.group.fired_at), severity, now)

    async def escalate(self, timer: Timer, tx: TimerContext) -> None:
        """The ``alert_page`` handler: the next step, if the group still calls for it."""
        step = Step.from_payload(timer.payload)
        kept = await tx.uow.alert_groups.get(int(timer.payload["group"]))
        if kept is None or step.exhausted or kept.group.status.value != "firing":
            return  # resolved, acknowledged, silenced or gone: paging stops
        if kept.group.fired_at != step.run:
            return  # it fired again since: that run has its own timer
        await self._page(tx.uow, kept, step, str(timer.payload.get("severity", "P3")), tx.now)

    async def _page(
        self, uow: UnitOfWork, kept: StoredGroup, step: Step, severity: str, now: datetime
    ) -> None:
        targets = await self.targets(uow, step.escalation, step.level, now)
        await uow.outbox.add(self._effects(kept, step, severity, targets), now)
        escalation = escalation_of(self.ctx.policy, step.escalation)
        following = next_step(escalation, step)
        if not escalation.levels or following.exhausted:
            return
        due = now + timedelta(minutes=escalation.escalate_after_minutes)
        payload = {**following.to_payload(), "group": kept.id, "severity": severity}
        await uow.timers.schedule(page_key(kept.id), PAGE_TIMER, due, payload=payload, replace=True)

    def _effects(
        self, kept: StoredGroup, step: Step, severity: str, targets: list[str]
    ) -> list[Effect]:
        payload = group_payload(kept, severity, self.ctx.public_url)
        stamp = int(step.run.timestamp() * 1000)
        effects = []
        for key in targets:
            person = Actor.from_key(key)
            if person.platform not in CHAT or person.platform not in self.ctx.destinations:
                continue
            page = {**payload, "person": person.to_dict(), "buttons": [ALERT_ACK_BUTTON]}
            where = f"{kept.id}:page:{stamp}:{step.round}.{step.level}:{key}"
            idempotency = f"{person.platform}:alert-group:{where}"[:200]
            ordering = f"{person.platform}:page:{key}"[:200]
            effects.append(
                Effect(person.platform, PAGE_DM, page, idempotency, None, ordering_key=ordering)
            )
        return effects
