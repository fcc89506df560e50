"""PagerDuty Events API v2: the outbox sender (``sender.py``)."""
