"""One pydantic error on a setting, in plain English, from what the field declares.

The rules live in the field declarations of :class:`tocsin.config.Settings` (``Literal``,
``Field`` bounds, ``pattern`` with a ``means`` wording, ``FilePath``); this module only words a
failure of them: ``must be an integer from 1 to 65535 (got 'abc')``.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic.fields import FieldInfo

_NUMBER_ERRORS = frozenset(
    {"int_parsing", "int_from_float", "float_parsing", "finite_number", "greater_than",
     "greater_than_equal", "less_than_equal"}
)  # fmt: skip


def _declared(field: FieldInfo) -> tuple[list[Any], dict[str, Any]]:
    """The constraints and schema extras declared on a field, also inside ``X | None``."""
    found, extra = list(field.metadata), dict(field.json_schema_extra or {})  # type: ignore[arg-type]
    for arg in get_args(field.annotation):
        for item in getattr(arg, "__metadata__", ()):
            if isinstance(item, FieldInfo):
                found += item.metadata
                extra |= item.json_schema_extra or {}  # type: ignore[arg-type]
            else:
                found.append(item)
    return found, extra


def _number_rule(field: FieldInfo) -> str:
    """``must be an integer from 1 to 65535``, from the field's type and ``Field`` bounds."""
    types = {getattr(t, "__origin__", t) for t in (field.annotation, *get_args(field.annotation))}
    kind = "a number" if float in types else "an integer"
    bounds = {name: getattr(m, name) for m in _declared(field)[0] for name in ("ge", "gt", "le")
              if getattr(m, name, None) is not None}  # fmt: skip
    if "ge" in bounds and "le" in bounds:
        return f"must be {kind} from {bounds['ge']} to {bounds['le']}"
    if "gt" in bounds:
        return f"must be {kind} greater than {bounds['gt']}"
    if "ge" in bounds:
        return f"must be {kind}, {bounds['ge']} or more"
    return f"must be {kind}"


def _rule(error: Any, field: FieldInfo | None) -> str:
    """What the value must be, in plain English, from the field's declaration."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "value_error" and ctx.get("error") is not None:
        return str(ctx["error"])
    if kind == "literal_error":
        return f"must be one of {str(ctx.get('expected', '')).replace(chr(39), '')}"
    if kind in _NUMBER_ERRORS and field is not None:
        return _number_rule(field)
    means = _declared(field)[1].get("means") if field is not None else None
    if kind == "string_pattern_mismatch" and means:
        return f"must be {means}"
    if kind == "path_not_file":
        return "no such file"
    return str(error["msg"]).lower()


def describe(error: Any, field: FieldInfo | None, *, secret: bool) -> str:
    """Turn one pydantic error into plain English, never echoing a secret."""
    rule = _rule(error, field)
    if error["type"] in {"missing", "extra_forbidden", "value_error"} or secret:
        return rule
    return f"{rule} (got {error.get('input')!r})"
