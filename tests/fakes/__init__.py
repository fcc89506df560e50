"""Fake outside services for tests (loopback HTTP servers that answer like the real ones)."""

from pathlib import Path

#: Vendored third-party material (specs, payloads, signing vectors); tests/fixtures/README.md
#: names each file's source and licence. Nothing in the tests reads outside the repository.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
