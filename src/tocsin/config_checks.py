"""The checks behind :class:`tocsin.config.Settings`: its field types, URL and secret key rules.

A check raises ``ValueError`` (or returns the problem) in words that read after the variable's
name, as a :class:`tocsin.config.ConfigError` shows them: ``TOCSIN_REDIS_URL: must start with ...``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, StringConstraints

MIN_SECRET_KEY_LENGTH = 32
_PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "placeholder", "your-secret", "example")


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Lower = BeforeValidator(_lower)
"""Choices (``Literal`` settings) are read case-insensitively: ``INFO`` is ``info``."""
Port = Annotated[int, Field(ge=1, le=65535)]
DiscordId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9]+$"),
    Field(json_schema_extra={"means": "a Discord id made of digits"}),
]
HexKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-fA-F]{64}$"),
    Field(json_schema_extra={"means": "64 hexadecimal characters"}),
]


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***`` so it can be shown in an error."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparsable URL>"


def check_url(value: str, schemes: tuple[str, ...], *, need_host: bool = True) -> str:
    """Return ``value`` stripped if it parses as a URL with one of ``schemes``."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError:
        raise ValueError(f"is not a valid URL (got {redact(value)!r})") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        wanted = [f"{s}:///" if s.startswith("sqlite") else f"{s}://" for s in schemes]
        raise ValueError(f"must start with {or_list(wanted)} (got {redact(value)!r})")
    if need_host and not parts.hostname:
        raise ValueError(f"must include a host name (got {redact(value)!r})")
    if scheme.startswith("sqlite") and parts.netloc:
        raise ValueError(f"must be sqlite:///path, with three slashes (got {value!r})")
    return value


def or_list(items: list[str] | tuple[str, ...], word: str = "or") -> str:
    """``a, b or c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def secret_key_problem(key: SecretStr | None) -> str | None:
    """Why ``key`` cannot sign sessions in production, or None when it is fine."""
    if key is None:
        return (
            "is required when TOCSIN_ENV=production; set it to a random string of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))')"
        )
    value = key.get_secret_value().strip()
    lowered = value.lower()
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return (
            f"must be at least {MIN_SECRET_KEY_LENGTH} characters in production "
            f"(got {len(value)} characters)"
        )
    if any(word in lowered for word in _PLACEHOLDER_WORDS) or len(set(lowered)) < 6:
        return "looks like a placeholder; set it to a random string (secrets.token_urlsafe(48))"
    return None
