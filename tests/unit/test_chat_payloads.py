"""Reading chat payloads: JSON that does not parse or nests too deep, and fields of the wrong
type, are Malformed naming the problem; everything else reads as it is."""

from __future__ import annotations

import pytest

from tocsin.chat.payloads import MAX_DEPTH, Malformed, items, json_object, json_value, obj, string


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_depth_up_to_the_limit_is_read_and_past_it_refused() -> None:
    """MAX_DEPTH levels of lists or objects parse; one more is refused, however it nests."""
    assert json_value(nested(MAX_DEPTH)) is not None
    with pytest.raises(Malformed, match="nested deeper than 64"):
        json_value(nested(MAX_DEPTH + 1))
    with pytest.raises(Malformed, match="nested deeper"):
        json_value(nested(MAX_DEPTH * 10))
    with pytest.raises(Malformed, match="depth"):
        json_value('{"a":' * 100_000 + "1" + "}" * 100_000)  # no RecursionError either


@pytest.mark.parametrize(
    "raw", [b"\xff", b'"\\ud800"', b"NaN", b"{", b"", '{"a": 1}'.encode("utf-16")]
)
def test_what_orjson_refuses_is_malformed(raw: bytes) -> None:
    """Invalid UTF-8, a lone surrogate, NaN, truncated or empty JSON, UTF-16."""
    with pytest.raises(Malformed, match="not valid JSON"):
        json_value(raw)


def test_json_object_wants_an_object() -> None:
    """A list or a number is valid JSON but not a payload."""
    assert json_object('{"type": "x"}') == {"type": "x"}
    with pytest.raises(Malformed, match="not an object"):
        json_object("[1]")


def test_fields_of_the_wrong_type_name_the_field() -> None:
    """obj, items and string give the empty value for a missing or null field and refuse
    (naming the field) a value of another type."""
    payload = {"view": "V1", "actions": [1], "user": {"id": 3}, "empty": None}
    assert obj(payload, "empty") == {}
    assert items(payload, "empty") == []
    assert string(payload, "empty") == ""
    assert string({"a": "b"}, "a") == "b"
    assert obj(payload, "user") == {"id": 3}
    with pytest.raises(Malformed, match=r"^view must be an object$"):
        obj(payload, "view")
    with pytest.raises(Malformed, match=r"^actions must be a list of objects$"):
        items(payload, "actions")
    with pytest.raises(Malformed, match=r"^id must be a string$"):
        string(payload["user"], "id")


def test_a_nul_anywhere_in_a_string_is_refused() -> None:
    """PostgreSQL cannot store NUL in text: an escaped NUL in any key or value is Malformed;
    the text "\\u0000" (an escaped backslash) is not a NUL and is read."""
    for raw in ('"a\\u0000"', '{"a\\u0000": 1}', '{"a": [{"b": "x\\u0000y"}]}'):
        with pytest.raises(Malformed, match="NUL"):
            json_value(raw)
    assert json_value('{"a": "\\\\u0000"}') == {"a": "\\u0000"}
