"""Discord request signatures: Ed25519 over ``X-Signature-Timestamp + raw body``.

Discord signs every interaction with the application's key pair and sends the signature (hex) in
``X-Signature-Ed25519``; the application's public key (TOCSIN_DISCORD_PUBLIC_KEY) verifies it.
The check runs on the raw bytes as they arrived, before anything is parsed or stored. Headers that
cannot be right (missing, not hex, the wrong length) are refused without touching the crypto, so
every forged request, including the deliberately bad ones Discord sends to test an endpoint, only
ever gets a 401. Replays of a real request are stopped further in: every state-changing
interaction is recorded by its id and handled once.
"""

from __future__ import annotations

from collections.abc import Mapping

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

SIGNATURE = "x-signature-ed25519"
TIMESTAMP = "x-signature-timestamp"
_SIGNATURE_HEX = 128  # 64 bytes
_MAX_TIMESTAMP = 32


class DiscordVerifier:
    """``verify(raw_body, headers)``: True only for a body Discord signed."""

    def __init__(self, public_key_hex: str) -> None:
        try:
            raw = bytes.fromhex(public_key_hex.strip())
        except ValueError:
            raise ValueError("the Discord public key is not hexadecimal") from None
        if len(raw) != 32:
            raise ValueError("the Discord public key must be 32 bytes (64 hexadecimal characters)")
        self._key = VerifyKey(raw)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        signature = headers.get(SIGNATURE) or ""
        timestamp = headers.get(TIMESTAMP) or ""
        if len(signature) != _SIGNATURE_HEX or not timestamp or len(timestamp) > _MAX_TIMESTAMP:
            return False
        if not timestamp.isascii():
            return False
        try:
            signed = bytes.fromhex(signature)
        except ValueError:
            return False
        try:
            self._key.verify(timestamp.encode() + body, signed)
        except (BadSignatureError, ValueError):
            return False
        return True


def sign(seed_hex: str, body: bytes, timestamp: str) -> dict[str, str]:
    """The headers Discord would send with ``body`` (for tests and local tools)."""
    key = SigningKey(bytes.fromhex(seed_hex))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {SIGNATURE: signature, TIMESTAMP: timestamp}
