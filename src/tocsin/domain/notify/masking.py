"""Contact URLs with their secrets masked, for display and logs (never log the full URL).

What is masked, each replaced by ``****``:

- the password of ``user:password@`` (the user stays: ``ntfy://alice:****@host/topic``), and a
  user with no password, which is how token logins are written (``ntfy://****@host/topic``);
- the parts that are tokens in well-known Apprise schemes: the host of ``tgram://`` (the bot
  token), the webhook token of ``discord://``, the three tokens of ``slack://`` … (see
  :data:`TOKEN_PARTS`);
- the value of every query parameter whose name contains token, key, secret, pass, auth, sig
  or pw (``?token=****``);
- anything that is not a URL at all (it may be a bare secret): all of it.

``mailto:`` addresses are not secrets and are shown as they are (query parameters still masked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["MASK", "TOKEN_PARTS", "mask_url"]

MASK = "****"
_SECRET_WORDS = ("token", "key", "secret", "pass", "auth", "sig", "pw")


@dataclass(frozen=True, slots=True)
class TokenParts:
    """Which parts of a scheme's URL are secrets: the host, and path segments by index (from
    0; negative from the end), or every segment."""

    host: bool = False
    segments: tuple[int, ...] = ()
    all_segments: bool = False


TOKEN_PARTS: Mapping[str, TokenParts] = MappingProxyType(
    {
        "tgram": TokenParts(host=True),  # tgram://bot_token/chat_id
        "pbul": TokenParts(host=True),  # pbul://access_token
        "pover": TokenParts(host=True),  # pover://user_key@app_token
        "join": TokenParts(host=True),  # join://api_key/device
        "opsgenie": TokenParts(host=True),  # opsgenie://api_key/
        "pagerduty": TokenParts(host=True),  # pagerduty://integration_key@api_key
        "discord": TokenParts(segments=(0,)),  # discord://webhook_id/webhook_token
        "slack": TokenParts(host=True, segments=(0, 1)),  # slack://TokenA/TokenB/TokenC/#chan
        "msteams": TokenParts(host=True, all_segments=True),  # msteams://A/B/C/
        "gotify": TokenParts(segments=(-1,)),  # gotify://host/app_token
        "mailgun": TokenParts(segments=(0,)),  # mailgun://user@domain/api_key
        "zulip": TokenParts(segments=(0,)),  # zulip://bot@organization/token
    }
)


def _parts_for(scheme: str) -> TokenParts:
    """The scheme's secret parts; ``xxxs`` (the TLS variant) is treated as ``xxx``."""
    scheme = scheme.lower()
    found = TOKEN_PARTS.get(scheme) or TOKEN_PARTS.get(scheme.removesuffix("s"))
    return found or TokenParts()


def mask_url(url: str) -> str:
    """``url`` with every secret part replaced by ``****`` (see the module docstring)."""
    if url.lower().startswith("mailto:") and "://" not in url:
        address, sep, query = url.partition("?")
        return address + (sep + _mask_query(query) if sep else "")
    scheme, found, rest = url.partition("://")
    if not found or not scheme:
        return MASK
    userinfo, host, tail = _split_authority(rest)
    parts = _parts_for(scheme)
    path, sep, query = tail.partition("?")
    masked_query = sep + _mask_query(query) if sep else ""
    if parts.host and host:
        host = MASK
    return f"{scheme}://{_mask_userinfo(userinfo)}{host}{_mask_segments(path, parts)}{masked_query}"


def _split_authority(rest: str) -> tuple[str | None, str, str]:
    """(userinfo or ``None``, host, the rest from ``/`` or ``?``). The userinfo runs to the last
    ``@`` before the first ``/``, so a stray ``?`` or ``#`` in a password stays inside it."""
    slash = rest.find("/")
    head = rest if slash < 0 else rest[:slash]
    userinfo, at, host = head.rpartition("@")
    mark = host.find("?")
    if mark >= 0:
        host, extra = host[:mark], host[mark:]
    else:
        extra = ""
    tail = extra + ("" if slash < 0 else rest[slash:])
    return (userinfo if at else None), host, tail


def _mask_userinfo(userinfo: str | None) -> str:
    if userinfo is None:
        return ""
    user, colon, _ = userinfo.partition(":")
    return f"{user}:{MASK}@" if colon else f"{MASK}@"


def _mask_segments(path: str, parts: TokenParts) -> str:
    """``path`` (empty, or starting with ``/``) with the scheme's secret segments masked."""
    segments = path.split("/")
    real = [index for index, segment in enumerate(segments) if segment]
    chosen = (
        real
        if parts.all_segments
        else [real[i] for i in parts.segments if -len(real) <= i < len(real)]
    )
    return "/".join(MASK if index in chosen else seg for index, seg in enumerate(segments))


def _mask_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        secret = eq and any(word in name.lower() for word in _SECRET_WORDS)
        pairs.append(f"{name}={MASK}" if secret else pair)
    return "&".join(pairs)
