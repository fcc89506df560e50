"""Slack's form bodies are parsed exactly as ``dict(parse_qsl(..., strict_parsing=True))`` would."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from tocsin.platforms.slack.common import BadRequest
from tocsin.platforms.slack.routes import _form

BODIES = [
    b"",
    b"a=1",
    b"token=x&team_id=T1&user_id=U0001&command=%2Fincident&text=note+INC-1+the+db+is+back",
    b"text=&trigger_id=1.2.3",
    b"a=1&a=2",
    b"payload=%7B%22type%22%3A%22block_actions%22%7D",
    b"text=caf%C3%A9+%E2%9C%85+%26+more%3D",
    b"text=50%25+up&x=a%2Bb",
    urlencode({"text": 'declare "Checkout down" P1 <@U1|alice>', "n": "é"}).encode(),
]


@pytest.mark.parametrize("body", BODIES)
def test_same_fields_as_parse_qsl(body: bytes) -> None:
    """Every field, unquoted (``%xx`` and ``+``), last repeat winning, blank values kept."""
    text = body.decode()
    expected = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    assert _form(body) == expected


@pytest.mark.parametrize("body", [b"a", b"a=1&&b=2", b"a=1&b", b"\xff=1"])
def test_malformed_bodies_are_refused(body: bytes) -> None:
    """A field without ``=``, an empty field, or bytes that are not UTF-8: a 400, not a guess."""
    with pytest.raises(BadRequest):
        _form(body)
