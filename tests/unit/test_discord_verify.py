"""Ed25519 request verification: every generated vector verifies exactly as it says, and
malformed headers are refused before any cryptography."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tocsin.platforms.discord.verify import SIGNATURE, TIMESTAMP, DiscordVerifier, sign


def vectors(fixtures_dir: Path) -> dict[str, Any]:
    return dict(json.loads((fixtures_dir / "generated/discord_ed25519_vectors.json").read_text()))


def test_every_vector_verifies_as_expected(fixtures_dir: Path) -> None:
    """Valid vectors pass; tampered signatures and bodies (one byte) fail."""
    data = vectors(fixtures_dir)
    verifier = DiscordVerifier(data["public_key_hex"])
    assert len(data["cases"]) >= 6
    for case in data["cases"]:
        headers = {SIGNATURE: case["x_signature_ed25519"], TIMESTAMP: case["x_signature_timestamp"]}
        assert verifier.verify(case["body"].encode(), headers) is case["expect_valid"], case["name"]


def test_the_generated_seed_signs_like_the_vectors(fixtures_dir: Path) -> None:
    """`sign` with the generated seed reproduces each valid vector's signature (Ed25519 is
    deterministic), so tests can sign any body the way Discord does."""
    data = vectors(fixtures_dir)
    for case in (c for c in data["cases"] if c["expect_valid"]):
        headers = sign(data["private_key_seed_hex"], case["body"].encode(), "1700000000")
        assert headers[SIGNATURE] == case["x_signature_ed25519"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {TIMESTAMP: "1700000000"},
        {SIGNATURE: "ab" * 64},
        {SIGNATURE: "ab" * 64, TIMESTAMP: ""},
        {SIGNATURE: "zz" * 64, TIMESTAMP: "1700000000"},
        {SIGNATURE: "ab" * 63, TIMESTAMP: "1700000000"},
        {SIGNATURE: "ab" * 64, TIMESTAMP: "1" * 40},
        {SIGNATURE: "ab" * 64, TIMESTAMP: "17000000ö0"},
    ],
)
def test_malformed_headers_are_refused(fixtures_dir: Path, headers: dict[str, str]) -> None:
    """Missing, non-hex, wrong-length signatures and odd timestamps are simply False."""
    verifier = DiscordVerifier(vectors(fixtures_dir)["public_key_hex"])
    assert verifier.verify(b'{"type":1}', headers) is False


def test_the_timestamp_is_part_of_what_is_signed(fixtures_dir: Path) -> None:
    """A valid signature presented with another timestamp fails."""
    data = vectors(fixtures_dir)
    body = b'{"type":1}'
    headers = sign(data["private_key_seed_hex"], body, "1700000000")
    verifier = DiscordVerifier(data["public_key_hex"])
    assert verifier.verify(body, headers)
    assert not verifier.verify(body, {**headers, TIMESTAMP: "1700000001"})


@pytest.mark.parametrize("key", ["", "xyz", "ab" * 31, "ab" * 33])
def test_a_bad_public_key_is_refused_at_start(key: str) -> None:
    """A public key that is not 32 bytes of hex fails when the verifier is built."""
    with pytest.raises(ValueError, match="public key"):
        DiscordVerifier(key)
