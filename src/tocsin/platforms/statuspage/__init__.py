"""Statuspage.io: the outbox sender (``sender.py``)."""
