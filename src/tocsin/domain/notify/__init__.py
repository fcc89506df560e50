"""People, their contact methods and personal notification rules, pure.

- :mod:`~tocsin.domain.notify.people`: :class:`Person` and ``[[person]]`` from the policy file;
- :mod:`~tocsin.domain.notify.rules`: which rule a page follows and which steps are due;
- :mod:`~tocsin.domain.notify.masking`: contact URLs with their secrets masked.

``docs/policy.md`` ("People and notification rules") describes the section for people.
"""

from tocsin.domain.notify.masking import MASK, mask_url
from tocsin.domain.notify.people import (
    DM_CONTACTS,
    MAX_STEPS,
    Person,
    RuleStep,
    find_person,
    parse_people,
    parse_step,
)
from tocsin.domain.notify.rules import URGENT, due_steps, next_due, rule_for

__all__ = [
    "DM_CONTACTS", "MASK", "MAX_STEPS", "URGENT", "Person", "RuleStep", "due_steps",
    "find_person", "mask_url", "next_due", "parse_people", "parse_step", "rule_for",
]  # fmt: skip
