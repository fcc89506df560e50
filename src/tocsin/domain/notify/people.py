"""People and their contact methods: the policy file's ``[[person]]`` section.

A person is known by ``id`` (the ``platform:user_id`` that schedules and escalations use) and by
the ids in ``also`` (the same person on other platforms). ``contacts`` maps a contact name to a
``mailto:`` address or an Apprise-style URL; ``"slack"`` and ``"discord"`` always mean a direct
message on that platform. A rule is a list of :class:`RuleStep`: which contact, and how long
after the page. ``docs/policy.md`` ("People and notification rules") is the reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tocsin.domain.notify.masking import mask_url
from tocsin.domain.policy import PLATFORMS

if TYPE_CHECKING:
    from tocsin.domain.policy_file import _Checker

__all__ = ["DM_CONTACTS", "MAX_STEPS", "Person", "RuleStep", "find_person", "parse_people",
           "parse_step"]  # fmt: skip

PERSON_KEYS = ("id", "also", "name", "timezone", "contacts", "default_rule", "urgent_rule")
DM_CONTACTS = ("slack", "discord")
MAX_STEPS = 10
_CONTACT_NAME = re.compile(r"[a-z0-9_-]+")
_CONTACT_URL = re.compile(r"mailto:[^@\s/]+@[^@\s/]+\.[^@\s/]+|[a-z][a-z0-9+.-]*://\S+")
_STEP = re.compile(r"(?P<contact>[a-z0-9_-]+)(?:\s+after\s+(?P<amount>\d{1,4})(?P<unit>[mh]))?")


@dataclass(frozen=True, slots=True)
class RuleStep:
    """Notify ``contact`` once ``after`` has passed since the page."""

    contact: str
    after: timedelta = timedelta(0)

    def __str__(self) -> str:
        minutes = int(self.after.total_seconds()) // 60
        if not minutes:
            return self.contact
        amount = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
        return f"{self.contact} after {amount}"


@dataclass(frozen=True, slots=True)
class Person:
    """One ``[[person]]``. ``contacts`` holds secrets (tokens in URLs), so it is left out of
    ``repr``; show :meth:`masked_contacts` instead."""

    id: str
    name: str
    timezone: str = "UTC"
    also: tuple[str, ...] = ()
    contacts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False)
    default_rule: tuple[RuleStep, ...] = ()
    urgent_rule: tuple[RuleStep, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.also)

    def masked_contacts(self) -> Mapping[str, str]:
        """The contacts with their secrets masked, fit for display and logs."""
        return MappingProxyType({name: mask_url(url) for name, url in self.contacts.items()})


def find_person(people: Iterable[Person], key: str) -> Person | None:
    """The person known as ``key`` (their ``id`` or one of ``also``)."""
    return next((person for person in people if key in person.ids), None)


def parse_step(text: str) -> RuleStep | None:
    """``"phone after 5m"`` → ``RuleStep("phone", 5 minutes)``; ``None`` if not of that form."""
    match = _STEP.fullmatch(text.strip())
    if match is None:
        return None
    amount = int(match["amount"] or 0)
    minutes = amount * 60 if match["unit"] == "h" else amount
    return RuleStep(match["contact"], timedelta(minutes=minutes))


# --- the policy-file section -------------------------------------------------------------------
def parse_people(check: _Checker, data: Mapping[str, Any]) -> tuple[Person, ...]:
    """``[[person]]`` entries, checked; problems go to ``check`` one per line."""
    seen: set[str] = set()
    people = []
    for path, table in check.tables(data, "person"):
        check.known_keys(table, PERSON_KEYS, path)
        before = len(check.problems)
        ids = _ids(check, table, path, seen)
        ids_ok = len(check.problems) == before
        name = check.text(table, "name", path, ids[0] if ids else "")
        timezone = check.timezone(table, path)
        contacts = _contacts(check, table, path)
        usable = (*contacts, *_dm_platforms(ids))
        default = _rule(check, table, path, "default_rule", usable) or _dm_rule(ids)
        urgent = _rule(check, table, path, "urgent_rule", usable) or default
        if ids_ok and not default and "default_rule" not in table:
            what = "no Slack or Discord id to send a direct message to, so say how to reach them"
            check.add(f"{path}.default_rule", f'{what} (e.g. default_rule = ["mail"])')
        person_id = ids[0] if ids else ""
        people.append(Person(person_id, name, timezone, tuple(ids[1:]),
                             MappingProxyType(contacts), default, urgent))  # fmt: skip
    return tuple(people)


def _ids(check: _Checker, table: Mapping[str, Any], path: str, seen: set[str]) -> list[str]:
    if "id" not in table:
        check.add(f"{path}.id", 'every person needs an id such as "slack:U0ALICE"')
        return []
    person_id = check.text(table, "id", path, "")
    also = check.strings(table.get("also", []), f"{path}.also")
    ids = [person_id, *also] if person_id else also
    for index, key in enumerate(ids):
        where = f"{path}.id" if person_id and index == 0 else f"{path}.also"
        check.person(key, where)
        if key in seen:
            check.add(where, f'"{key}" is already another person (or listed twice)')
        seen.add(key)
    return ids


def _contacts(check: _Checker, table: Mapping[str, Any], path: str) -> dict[str, str]:
    where = f"{path}.contacts"
    contacts = {}
    for name, value in check.table(table.get("contacts", {}), where).items():
        if _CONTACT_NAME.fullmatch(str(name)) is None:
            check.add(f"{where}.{name}", "contact names are lower-case letters, digits, - and _")
        elif name in DM_CONTACTS:
            check.add(
                f"{where}.{name}", f'"{name}" is the {name} direct message; pick another name'
            )
        elif not isinstance(value, str) or _CONTACT_URL.fullmatch(value) is None:
            what = 'expected "mailto:name@example.com" or a URL such as "ntfy://host/topic"'
            check.add(f"{where}.{name}", what)
        else:
            contacts[str(name)] = value
    return contacts


def _dm_platforms(ids: Sequence[str]) -> tuple[str, ...]:
    """The direct-message contacts this person can get: the platforms of their ids."""
    platforms = {key.split(":", 1)[0] for key in ids}
    return tuple(p for p in DM_CONTACTS if p in platforms and p in PLATFORMS)


def _dm_rule(ids: Sequence[str]) -> tuple[RuleStep, ...]:
    """With no rule given: a direct message on the platform of the first id that has them."""
    platforms = (key.split(":", 1)[0] for key in ids)
    return tuple(RuleStep(p) for p in platforms if p in DM_CONTACTS)[:1]


def _rule(
    check: _Checker, table: Mapping[str, Any], path: str, key: str, usable: Sequence[str]
) -> tuple[RuleStep, ...]:
    if key not in table:
        return ()
    where = f"{path}.{key}"
    texts = check.strings(table[key], where)
    if not texts and isinstance(table[key], list):
        check.add(where, "a rule needs at least one step")
    if len(texts) > MAX_STEPS:
        check.add(where, f"at most {MAX_STEPS} steps, got {len(texts)}")
    steps: list[RuleStep] = []
    for text in texts:
        step = parse_step(text)
        if step is None:
            check.add(where, f'bad step "{text}" (expected NAME or "NAME after 5m" / "after 1h")')
        elif step.contact not in usable:
            known = ", ".join(usable) or "none"
            check.add(where, f'unknown contact "{step.contact}" in "{text}" (known: {known})')
        elif steps and step.after < steps[-1].after:
            check.add(where, f'"{text}" comes before the step listed ahead of it')
        else:
            steps.append(step)
    return tuple(steps)
