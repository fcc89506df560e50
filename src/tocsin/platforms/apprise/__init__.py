"""Personal contact methods through Apprise (ntfy, Telegram, Pushover, JSON webhooks, ...).

``notify.py`` sends one notification to one Apprise URL, off the event loop and with a timeout;
``sender.py`` is the outbox sender, one per URL scheme so that each kind of contact method has
its own circuit breaker (destination ``apprise:ntfy``, ``apprise:json``, ...). docs/oncall.md
("Personal contact methods") describes them.
"""
