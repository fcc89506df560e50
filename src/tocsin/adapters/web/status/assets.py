"""The public status page's HTML template and stylesheet.

Kept in Python (not package data files) so that every way tocsin is installed ships them. The
template is rendered by Jinja2 with autoescaping on: every value is escaped, none is marked safe.
There is no inline script or style (the Content-Security-Policy forbids both): colours come from
classes in :data:`STYLESHEET`, served at ``/status/status.css``.
"""

from __future__ import annotations

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{{ page.name }} · {{ status.description }}</title>
  <link rel="stylesheet" href="/status/status.css">
  <link rel="alternate" type="application/atom+xml" title="{{ page.name }} history"
        href="/status/history.atom">
</head>
<body>
<main class="wrap">
  <header class="head">
    <h1>{{ page.name }}</h1>
    <nav class="links"><a href="/status/history">Incident history</a>
      <a class="feed" href="/status/history.atom">Subscribe (Atom)</a></nav>
  </header>
  <section class="banner banner-{{ status.indicator }}" aria-live="polite">
    <strong>{{ status.description }}</strong>
  </section>

  {% for incident in status.active %}
  <article class="incident impact-{{ incident.impact }}" id="incident-{{ incident.id }}">
    <h2>{{ incident.name }}</h2>
    <p class="meta">{{ incident.status|title }} · impact {{ incident.impact }}
      {% if incident.components %} · affects {{ incident.components|join(", ") }}{% endif %}</p>
    {% include "updates.html" %}
  </article>
  {% endfor %}

  {% for window in windows %}
  <article class="incident impact-maintenance" id="maintenance-{{ window.id }}">
    <h2>{{ window.title }}</h2>
    <p class="meta">{{ window.label }} ·
      <time datetime="{{ window.start|iso }}">{{ window.start|when }}</time> to
      <time datetime="{{ window.end|iso }}">{{ window.end|when }}</time>
      {% if window.components %} · affects {{ window.components|join(", ") }}{% endif %}</p>
    {% if window.description %}<p class="mdesc">{{ window.description }}</p>{% endif %}
  </article>
  {% endfor %}

  <section class="components" aria-labelledby="components-title">
    <h2 id="components-title" class="visually-hidden">Components</h2>
    {% for component in status.components %}
    <div class="component">
      <div class="component-head">
        <span class="name">{{ component.name }}</span>
        <span class="cstatus cs-{{ component.status }}">{{ labels[component.status] }}</span>
      </div>
      {% if component.description %}<p class="desc">{{ component.description }}</p>{% endif %}
      <div class="bars" role="img" aria-label="{{ component.name }}:
        {{- ' %.2f'|format(component.uptime) }}% uptime over {{ component.days|length }} days">
        {% for day in component.days %}<span class="bar bar-{{ day.status }}"
          title="{{ day.day.isoformat() }}: {{ '%.2f'|format(day.uptime) }}%
          {{- ' (' ~ labels[day.status] ~ ')' }}"></span>{% endfor %}
      </div>
      <div class="scale"><span>{{ component.days|length }} days ago</span>
        <span>{{ '%.2f'|format(component.uptime) }}% uptime</span><span>Today</span></div>
    </div>
    {% else %}
    <p class="empty">No components are listed yet.</p>
    {% endfor %}
  </section>

  <section class="past" aria-labelledby="past-title">
    <h2 id="past-title">Past incidents</h2>
    {% for incident in status.past %}
    <article class="incident past-incident" id="incident-{{ incident.id }}">
      <h3>{{ incident.name }}</h3>
      <p class="meta">Resolved
        <time datetime="{{ incident.resolved_at|iso }}">{{ incident.resolved_at|when }}</time>
        · impact {{ incident.impact }}</p>
      {% include "updates.html" %}
    </article>
    {% else %}
    <p class="empty">No incidents in the last 90 days.</p>
    {% endfor %}
    <p class="more"><a href="/status/history">All past incidents</a></p>
  </section>
  {% if subscribe %}
  <section class="subscribe" aria-labelledby="subscribe-title">
    <h2 id="subscribe-title">Get updates by email</h2>
    <form method="post" action="/status/subscribe">
      <label>Email address <input type="email" name="email" required maxlength="254"></label>
      {% if status.components %}
      <fieldset><legend>Only for these components (none ticked: all)</legend>
        {% for component in status.components %}
        <label><input type="checkbox" name="component" value="{{ component.name }}">
          {{ component.name }}</label>
        {% endfor %}
      </fieldset>
      {% endif %}
      <button type="submit">Subscribe</button>
    </form>
  </section>
  {% endif %}
  <footer class="foot">Updated
    <time datetime="{{ status.updated_at|iso }}">{{ status.updated_at|when }}</time>
    · <a href="/status/api/v2/summary.json">JSON</a></footer>
</main>
</body>
</html>
"""

UPDATES_TEMPLATE = """<ol class="updates">
  {% for update in incident.updates %}
  <li><span class="state">{{ update.status|title }}</span> {{ update.body }}
    <time datetime="{{ update.at|iso }}">{{ update.at|when }}</time></li>
  {% endfor %}
</ol>
"""
"""An incident's public updates, newest first (included by both pages for ``incident``)."""

HISTORY_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{{ history.page.name }} · Incident history</title>
  <link rel="stylesheet" href="/status/status.css">
</head>
<body>
<main class="wrap">
  <header class="head">
    <h1>Incident history</h1>
    <nav class="links"><a href="/status">Current status</a></nav>
  </header>
  {% for month in history.months %}
  <section class="past month" aria-labelledby="month-{{ loop.index }}">
    <h2 id="month-{{ loop.index }}">{{ month.label }}</h2>
    {% for incident in month.incidents %}
    <article class="incident past-incident impact-{{ incident.impact }}"
             id="incident-{{ incident.id }}">
      <h3>{{ incident.name }}</h3>
      <p class="meta">Resolved
        <time datetime="{{ incident.resolved_at|iso }}">{{ incident.resolved_at|when }}</time>
        · <span class="duration">lasted {{ incident|duration }}</span>
        · impact {{ incident.impact }}
        {% if incident.components %} · {{ incident.components|join(", ") }}{% endif %}</p>
      {% if incident.summary %}
      <section class="summary" aria-label="Summary">
        <h4>Summary</h4>
        <p class="summary-text">{{ incident.summary }}</p>
      </section>
      {% endif %}
      {% include "updates.html" %}
    </article>
    {% endfor %}
  </section>
  {% else %}
  <p class="empty">No past incidents{% if history.number > 1 %} on this page{% endif %}.</p>
  {% endfor %}
  <nav class="pager" aria-label="Pages">
    {% if history.newer %}<a rel="prev" href="/status/history?page={{ history.newer }}">Newer</a>
    {% endif %}
    <span>Page {{ history.number }} of {{ history.pages }}</span>
    {% if history.older %}<a rel="next" href="/status/history?page={{ history.older }}">Older</a>
    {% endif %}
  </nav>
</main>
</body>
</html>
"""

LABELS = {
    "operational": "Operational",
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}

MAINTENANCE_LABELS = {
    "scheduled": "Scheduled maintenance",
    "in_progress": "Maintenance in progress",
}

STYLESHEET = """/* tocsin public status page: system fonts, light and dark, no inline styles. */
:root {
  --bg: #f6f7f9; --card: #ffffff; --text: #1b1f24; --muted: #57606a; --line: #d8dee4;
  --ok: #1a7f37; --maint: #1d4ed8; --minor: #9a6700; --major: #c4320a; --critical: #b42318;
  --empty: #d8dee4;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 16px; line-height: 1.5; color: var(--text); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1217; --card: #171b22; --text: #e6edf3; --muted: #9aa4ae; --line: #2d333b;
    --ok: #57ab5a; --maint: #6ea8fe; --minor: #daaa3f; --major: #f69d50; --critical: #f47067;
    --empty: #2d333b;
  }
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--maint); }
.wrap { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
.head { display: flex; align-items: baseline; justify-content: space-between; gap: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 0 0 0.4rem; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: 0 0 0.3rem; overflow-wrap: anywhere; }
.feed { font-size: 0.9rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); }
.banner { border-radius: 10px; padding: 0.9rem 1.1rem; color: #fff; margin-bottom: 1.2rem;
  font-size: 1.1rem; }
.banner-none { background: var(--ok); }
.banner-maintenance { background: var(--maint); }
.banner-minor { background: var(--minor); }
.banner-major { background: var(--major); }
.banner-critical { background: var(--critical); }
.incident { background: var(--card); border: 1px solid var(--line);
  border-left: 6px solid var(--line); border-radius: 10px; padding: 0.9rem 1.1rem;
  margin-bottom: 1rem; }
.impact-critical { border-left-color: var(--critical); }
.impact-major { border-left-color: var(--major); }
.impact-minor { border-left-color: var(--minor); }
.impact-none { border-left-color: var(--maint); }
.impact-maintenance { border-left-color: var(--maint); }
.mdesc { margin: 0; white-space: pre-line; overflow-wrap: anywhere; }
.summary h4 { margin: 0.5rem 0 0.1rem; font-size: 0.95rem; }
.summary-text { margin: 0 0 0.5rem; white-space: pre-line; overflow-wrap: anywhere; }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0 0 0.5rem; }
.updates { list-style: none; margin: 0; padding: 0; }
.updates li { padding: 0.45rem 0; border-top: 1px solid var(--line); overflow-wrap: anywhere;
  white-space: pre-line; }
.updates time, .foot time { color: var(--muted); font-size: 0.85rem; display: block; }
.state { font-weight: 600; margin-right: 0.3rem; }
.components { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 0.4rem 1.1rem; margin: 1.2rem 0 1.6rem; }
.component { padding: 0.8rem 0; border-top: 1px solid var(--line); }
.component:first-of-type { border-top: 0; }
.component-head { display: flex; justify-content: space-between; gap: 1rem; }
.name { font-weight: 600; overflow-wrap: anywhere; }
.desc { color: var(--muted); font-size: 0.9rem; margin: 0.1rem 0 0; }
.cstatus { font-size: 0.9rem; white-space: nowrap; }
.cs-operational { color: var(--ok); }
.cs-under_maintenance { color: var(--maint); }
.cs-degraded_performance { color: var(--minor); }
.cs-partial_outage { color: var(--major); }
.cs-major_outage { color: var(--critical); }
.bars { display: flex; gap: 2px; height: 2.1rem; margin-top: 0.5rem; }
.bar { flex: 1 1 0; border-radius: 2px; background: var(--ok); min-width: 1px; }
.bar-under_maintenance { background: var(--maint); }
.bar-degraded_performance { background: var(--minor); }
.bar-partial_outage { background: var(--major); }
.bar-major_outage { background: var(--critical); }
.scale { display: flex; justify-content: space-between; color: var(--muted); font-size: 0.8rem;
  margin-top: 0.2rem; }
.past h2 { margin-bottom: 0.8rem; }
.past-incident { border-left-width: 1px; }
.empty { color: var(--muted); }
.foot { color: var(--muted); font-size: 0.85rem; margin-top: 2rem; }
.links { display: flex; gap: 1rem; font-size: 0.9rem; flex-wrap: wrap; }
.more { margin: 0.5rem 0 0; }
.month h2 { margin-top: 1.4rem; }
.pager { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
  margin-top: 1.5rem; color: var(--muted); font-size: 0.9rem; }
@media (max-width: 36rem) {
  :root { font-size: 15px; }
  .wrap { padding: 1rem 0.75rem 2rem; }
  .head { flex-direction: column; gap: 0.25rem; }
  h1 { margin-bottom: 0.5rem; }
  .banner, .incident { padding: 0.75rem 0.85rem; }
  .components { padding: 0.3rem 0.85rem; }
  .component-head { flex-wrap: wrap; gap: 0.25rem 1rem; }
  .bars { gap: 1px; height: 1.8rem; }
  .bar { border-radius: 1px; }
  .pager { flex-wrap: wrap; }
}
"""
