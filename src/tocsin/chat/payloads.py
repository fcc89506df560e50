"""Reading what a chat platform sent, the same way for Slack and Discord.

A signed request can still be malformed. These helpers turn every malformed shape into
:class:`Malformed` naming the field, which the adapters answer with HTTP 400 and one warning log
line (no traceback): JSON that does not parse or is nested deeper than :data:`MAX_DEPTH` (real
payloads are about ten levels deep; a thousand would exhaust Python's recursion limit in whatever
reads it next), a NUL character (PostgreSQL cannot store one in text), an object where a list
belongs and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

MAX_DEPTH = 64
_EMPTY: Mapping[str, Any] = {}


class Malformed(ValueError):
    """What a chat platform sent cannot be understood; the message says which field is wrong."""


def json_value(raw: str | bytes) -> Any:
    """``raw`` parsed, refusing invalid UTF-8, lone surrogates and NaN (orjson's rules),
    anything nested deeper than :data:`MAX_DEPTH` and strings with a NUL character."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Malformed(f"the body is not valid JSON ({exc.msg})") from None
    escaped_nul = "\\u0000" in raw if isinstance(raw, str) else b"\\u0000" in raw
    _check(data, nul=escaped_nul)  # a NUL can only arrive escaped: JSON forbids a raw one
    return data


def json_object(raw: str | bytes) -> dict[str, Any]:
    """:func:`json_value`, which must be an object."""
    data = json_value(raw)
    if not isinstance(data, dict):
        raise Malformed("the JSON body is not an object")
    return data


def _check(data: Any, *, nul: bool) -> None:
    """Refuse nesting past :data:`MAX_DEPTH` and (when ``nul``) strings holding a NUL, walking
    iteratively: no recursion, whatever the depth."""
    if nul and _has_nul(data):
        raise Malformed("a string in the JSON contains a NUL character")
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed(f"the JSON is nested deeper than {MAX_DEPTH} levels")
        children = list(value.values()) if isinstance(value, dict) else value
        keys = list(value) if isinstance(value, dict) else []
        if nul and any(_has_nul(item) for item in (*keys, *children)):
            raise Malformed("a string in the JSON contains a NUL character")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def obj(parent: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``parent[name]``: an object, or ``{}`` when it is missing or empty; anything else is
    :class:`Malformed`."""
    value = parent.get(name)
    if not value:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise Malformed(f"{name} must be an object")
    return value


def items(parent: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """``parent[name]``: a list of objects, or ``[]`` when it is missing or empty."""
    value = parent.get(name)
    if not value:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise Malformed(f"{name} must be a list of objects")
    return value


def string(parent: Mapping[str, Any], name: str) -> str:
    """``parent[name]``: a string, or ``""`` when it is missing or null; anything else is
    :class:`Malformed` (a number or an object where Slack or Discord send text)."""
    value = parent.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Malformed(f"{name} must be a string")
    return value


MAX_ID = 2**31 - 1  # the largest id tocsin stores (a 32-bit integer column)


def identifier(value: Any, name: str) -> int:
    """``value``, the id a button carries (``"12"``: ASCII digits, 1 to :data:`MAX_ID`);
    anything else is :class:`Malformed` naming ``name``: tocsin never sends it."""
    text = value if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID):
        raise Malformed(f"{name} must be an id (a whole number), not {str(value)[:40]!r}")
    return int(text)
