"""The outside systems, one folder each (``slack``, ``discord``, ``statuspage``, ``pagerduty``,
``webhook``): its API client, the rendering of neutral messages into its format, its inbound
routes and request signatures where it has them, and its outbox sender(s). :mod:`.registry`
names every destination's sender builder (docs/architecture.md)."""
