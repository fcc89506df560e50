"""Edits of a ``[[person]]`` kept in the database: the policy file is the base, stored edits win.

A :class:`PersonEdit` names a person of the policy file (by their ``id``) and changes their
contacts (a URL set, or ``None``: removed) and their rules (the step texts, as written in the
policy file). :func:`apply_edit` merges the two and checks the result with the policy file's own
people parser (:func:`~tocsin.domain.notify.people.parse_people`), so an edit is valid exactly
when the same lines in the policy file would be; a bad edit raises
:class:`~tocsin.domain.errors.PolicyError` naming the field. Only the policy file makes people;
edits change their contact methods and rules, never who they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from tocsin.domain.errors import PolicyError
from tocsin.domain.notify.people import Person
from tocsin.domain.policy_file import parse_policy

__all__ = ["RULES", "PersonEdit", "apply_edit", "current_people"]

RULES = ("default", "urgent")


@dataclass(frozen=True, slots=True)
class PersonEdit:
    """What is stored for one person. ``contacts`` holds secrets (tokens in URLs): no repr."""

    person: str
    contacts: Mapping[str, str | None] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    default_rule: tuple[str, ...] | None = None
    urgent_rule: tuple[str, ...] | None = None

    def set_contact(self, name: str, url: str | None) -> PersonEdit:
        """The edit with contact ``name`` set to ``url`` (``None``: removed)."""
        return replace(self, contacts=MappingProxyType({**self.contacts, name: url}))

    def set_rule(self, which: str, steps: Sequence[str]) -> PersonEdit:
        """The edit with the ``default`` or ``urgent`` rule replaced by ``steps``."""
        if which not in RULES:
            raise PolicyError([f"rule: expected default or urgent, got {which!r}"])
        if which == "default":
            return replace(self, default_rule=tuple(steps))
        return replace(self, urgent_rule=tuple(steps))

    def to_dict(self) -> dict[str, Any]:
        rules = {"default_rule": self.default_rule, "urgent_rule": self.urgent_rule}
        return {"contacts": dict(self.contacts), **{k: list(v) for k, v in rules.items() if v}}

    @classmethod
    def from_dict(cls, person: str, data: Mapping[str, Any]) -> PersonEdit:
        contacts = {str(k): None if v is None else str(v) for k, v in data["contacts"].items()}
        rules = {k: tuple(str(s) for s in data[k]) for k in ("default_rule", "urgent_rule")
                 if data.get(k)}  # fmt: skip
        return cls(person, MappingProxyType(contacts), **rules)


def _raw(person: Person, edit: PersonEdit) -> dict[str, Any]:
    """The person as policy-file lines, with the edit applied."""
    contacts = {**person.contacts, **edit.contacts}
    return {
        "id": person.id,
        "also": list(person.also),
        "name": person.name,
        "timezone": person.timezone,
        "contacts": {name: url for name, url in contacts.items() if url is not None},
        "default_rule": list(edit.default_rule or [str(s) for s in person.default_rule]),
        "urgent_rule": list(edit.urgent_rule or [str(s) for s in person.urgent_rule]),
    }


def apply_edit(person: Person, edit: PersonEdit) -> Person:
    """``person`` with ``edit`` applied, checked as the policy file's ``[[person]]`` would be;
    :class:`PolicyError` (one line per problem, ``person.<field>: <what>``) when invalid."""
    try:
        return parse_policy({"person": [_raw(person, edit)]}, source="edit").people[0]
    except PolicyError as exc:
        problems = [p.replace("edit: person[0].", "person.", 1) for p in exc.problems]
        raise PolicyError(problems) from None


def current_people(people: Iterable[Person], edits: Mapping[str, PersonEdit]) -> tuple[Person, ...]:
    """The policy file's people with their stored edits applied; an edit that no longer fits
    (the policy file changed under it: a contact its rule names is gone) is left out, and the
    person stays as the file says."""
    found = []
    for person in people:
        edit = edits.get(person.id)
        try:
            found.append(apply_edit(person, edit) if edit is not None else person)
        except PolicyError:
            found.append(person)
    return tuple(found)
