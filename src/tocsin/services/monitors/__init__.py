"""Uptime monitors at work (docs/monitors.md): the checker, recording results, pause and
resume, retention, and the views the CLI and API show.

- :mod:`.probe`: one HTTP(S) request or TCP connect, outside any unit of work;
- :mod:`.checker`: the durable timer per monitor and the rounds that claim and check them;
- :mod:`.record`: one result recorded (state machine, alert routing, component status);
- :mod:`.retention`: the hourly retention timer;
- :mod:`.views`: monitors with their state, and recent results.
"""
