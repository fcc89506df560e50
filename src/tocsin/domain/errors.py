"""Domain errors. Every one carries a message a person can read as it is.

DomainError
├── ParseError          the command text could not be understood
├── InvalidTransition   the incident cannot do that in its current state
├── PermissionDenied    the actor may not run that command
├── NotFound            no such incident (or item)
├── PolicyError         the policy file is wrong (one problem per line)
└── AlertPayloadError   an alert webhook body is not in the expected shape (names the field)
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises; ``str(err)`` is fit to show a user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ParseError(DomainError):
    """The command text could not be understood; ``usage`` says how to write it."""

    def __init__(self, message: str, usage: str = "") -> None:
        super().__init__(message)
        self.usage = usage


class InvalidTransition(DomainError):
    """The incident cannot make that change from its current state."""


class PermissionDenied(DomainError):
    """The actor may not run the command; the message says why."""


class NotFound(DomainError):
    """The named incident or item does not exist."""


class PolicyError(DomainError):
    """The policy is invalid. ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class AlertPayloadError(DomainError):
    """An alert body is malformed; ``field`` is the path of the bad part (``alerts[3].labels``)
    and the message reads ``<field>: <what is wrong>``."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(f"{field}: {what}" if field else what)
        self.field = field
