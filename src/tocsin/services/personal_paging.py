"""Paging someone who has a ``[[person]]`` entry: their own notification rule, step by step.

When the escalation pages a target that is a person of the policy file (by ``id`` or ``also``),
the rule for the page's severity (``urgent_rule`` for P1/P2, else ``default_rule``) replaces the
plain DM: each step's effects are queued at its delay, the first ones (no delay) with the page
itself, the later ones by a durable ``person_step`` timer in the same transaction. A timer that
fires after an acknowledgement (from anyone, on any surface), a resolve or a downgrade sends
nothing: the same :func:`~tocsin.domain.paging.stop_reason` as the escalation's. What a step
sends is decided in :mod:`tocsin.domain.notify.paging`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from tocsin.domain.effects import Effect
from tocsin.domain.model import Incident
from tocsin.domain.notify import Person, find_person, rule_for
from tocsin.domain.notify.paging import MAIL, mail_address, step_effects
from tocsin.domain.paging import Step, escalation_of, page_key, page_payload, stop_reason
from tocsin.domain.policy import Escalation, Policy
from tocsin.domain.routing import snapshot
from tocsin.services.ack_tokens import ack_url
from tocsin.services.people import current
from tocsin.services.ports import UnitOfWork
from tocsin.storage.timers import Timer

if TYPE_CHECKING:
    from tocsin.delivery.timers import TimerContext

log = structlog.get_logger("tocsin.paging")

PERSON_STEP = "person_step"


@dataclass(frozen=True)
class PersonalPaging:
    """Plans and fires the steps of people's rules. ``ack_secret`` signs acknowledge links
    (none without TOCSIN_SECRET_KEY); ``minute`` is as in :class:`~tocsin.services.paging.
    PagingConfig`."""

    policy: Policy
    destinations: Collection[str]
    public_url: str = ""
    ack_secret: str | None = None
    minute: float = 60.0

    async def people(self, uow: UnitOfWork, targets: Collection[str]) -> dict[str, Person]:
        """The targets that have a ``[[person]]`` entry, by target key (stored edits applied)."""
        everyone = await current(uow, self.policy) if targets else ()
        found = {key: find_person(everyone, key) for key in targets}
        return {key: person for key, person in found.items() if person is not None}

    async def page(
        self,
        tx: TimerContext,
        incident: Incident,
        escalation: Escalation,
        step: Step,
        person: Person,
    ) -> list[Effect]:
        """The effects of the rule's first steps (due now); later steps armed as timers."""
        effects: list[Effect] = []
        for index, rule_step in enumerate(rule_for(person, incident.severity)):
            if rule_step.after <= timedelta(0):
                effects += self._effects(incident, escalation, step, person, index, tx.now)
                continue
            seconds = rule_step.after.total_seconds() / 60 * self.minute
            await tx.timers.schedule(
                f"{PERSON_STEP}:{page_key(incident, step)}:{person.id}:{index}"[:200],
                PERSON_STEP,
                tx.now + timedelta(seconds=seconds),
                incident=incident.number,
                payload={"person": person.id, "index": index, "step": step.to_payload()},
                replace=False,
            )
        return effects

    async def fire(self, timer: Timer, tx: TimerContext) -> None:
        """A later step of someone's rule: sent unless the page is over."""
        if timer.incident is None:
            return
        step = Step.from_payload(timer.payload["step"])
        incident = await tx.uow.incidents.get(timer.incident)
        person = find_person(await current(tx.uow, self.policy), str(timer.payload.get("person")))
        if incident is None or person is None:
            return
        reason = stop_reason(incident, self.policy, step)
        if reason is not None:
            log.info("personal step not sent", incident=incident.ref, person=person.id,
                     reason=reason)  # fmt: skip
            return
        escalation = escalation_of(self.policy, step.escalation)
        index = int(timer.payload.get("index", 0))
        effects = self._effects(incident, escalation, step, person, index, tx.now)
        await tx.uow.outbox.add(effects, tx.now)
        log.info("personal step sent", incident=incident.ref, person=person.id, index=index,
                 destinations=[e.destination for e in effects])  # fmt: skip

    def _effects(
        self,
        incident: Incident,
        escalation: Escalation,
        step: Step,
        person: Person,
        index: int,
        now: datetime,
    ) -> list[Effect]:
        rule = rule_for(person, incident.severity)
        if index >= len(rule):
            return []  # the rule changed since the page
        base = page_payload(incident, snapshot(incident, self.public_url), escalation, step)
        link = ack_url(self.public_url, self.ack_secret, incident.number, person.id, now)
        key = f"{page_key(incident, step)}:{person.id}:{index}"
        contact = rule[index].contact
        if MAIL not in self.destinations and mail_address(person.contacts.get(contact, "")):
            log.warning("mail step skipped: set TOCSIN_SMTP_URL and TOCSIN_SMTP_FROM to send it",
                        incident=incident.ref, person=person.id, contact=contact)  # fmt: skip
        return step_effects(incident, person, contact, base, key, self.destinations, link)
