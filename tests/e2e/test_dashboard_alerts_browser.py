"""The Alerts page's buttons in a real browser (Playwright driving Debian's chromium) against a
real server: Acknowledge and Silence work from the page with no console error or CSP violation,
the rows the live stream rebuilds keep their buttons, and Declare lands on the new incident.
Skipped like ``test_dashboard_browser.py``."""

from __future__ import annotations

import pytest

from e2e.test_dashboard_browser import Site, browser, expect, quick_hashes, signed_in, site
from fakes.alerts_kit import generic, groups, intake_client, integration, path_of, runner
from tocsin.domain.model import Actor
from tocsin.services.alerts.groups import ack_group

__all__ = ["browser", "quick_hashes", "site"]  # the dashboard browser tests' fixtures
pytestmark = pytest.mark.slow


async def test_the_buttons_act_and_survive_live_updates(browser: object, site: Site) -> None:
    """alice acknowledges #1 (the flash says so, its Acknowledge button is gone); when #2 is
    acknowledged elsewhere the live stream rebuilds the rows, still with Silence and Declare;
    she silences #2 for 4 hours and declares an incident for #1, landing on INC-1."""
    made = await integration(site.ctx, name="prometheus")
    async with intake_client(site.ctx) as http:
        for key in ("db", "disk"):
            body = generic(key, title=f"{key} alert")
            assert (await http.post(path_of(made), content=body)).status_code == 202
    await runner(site.ctx).fire_due()
    first, second = sorted(kept.id for kept in await groups(site.ctx))
    page = await signed_in(browser, site, "alice")  # type: ignore[no-untyped-call]
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    await page.goto(site.url + "/alert-groups")
    await expect(page.locator("#live-state")).to_be_visible()
    await page.get_by_role("button", name=f"Acknowledge alert group #{first}").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Alert group #{first} is acknowledged"
    )
    await expect(
        page.get_by_role("button", name=f"Acknowledge alert group #{first}")
    ).to_have_count(0)
    await expect(page.locator("#live-state")).to_be_visible()
    await ack_group(site.ctx, Actor("slack", "U0BOB", "bob"), second)
    rebuilt = page.locator("#alert-groups tr", has_text=f"#{second}")
    await expect(rebuilt.locator(".badge")).to_have_text("acknowledged")
    await expect(
        rebuilt.get_by_role("button", name=f"Acknowledge alert group #{second}")
    ).to_have_count(0)
    await rebuilt.get_by_label(f"How long to silence alert group #{second}").select_option("4")
    await rebuilt.get_by_role("button", name=f"Silence alert group #{second}").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Alert group #{second} is silenced for 4h"
    )
    await page.get_by_role("button", name=f"Declare an incident for alert group #{first}").click()
    await expect(page).to_have_url(site.url + "/incidents/1")
    await expect(page.get_by_role("status")).to_contain_text(
        f"INC-1 declared for alert group #{first}"
    )
    await page.goto(site.url + "/alert-groups")
    await expect(page.get_by_role("link", name="Open INC-1")).to_be_visible()
    assert problems == []
    await page.context.close()
