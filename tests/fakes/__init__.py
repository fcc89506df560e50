"""Fake outside services for tests (loopback HTTP servers that answer like the real ones)."""
