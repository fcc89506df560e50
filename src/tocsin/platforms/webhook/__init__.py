"""The generic signed webhook: the outbox sender (``sender.py``)."""
