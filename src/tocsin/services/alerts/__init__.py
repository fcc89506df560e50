"""The alert intake's use cases (docs/alerts.md).

- :mod:`.integrations`: create, list, rotate and delete the URLs senders post to, and check a
  request's secret or signature;
- :mod:`.intake`: accept a body into the durable inbox (checked, deduplicated, committed before
  the 2xx);
- :mod:`.process`: the timer handler that turns inbox rows into group changes and carries out
  the route's action (ignore, page, propose, declare);
- :mod:`.groups`: list, acknowledge, silence and declare alert groups by hand.
"""
