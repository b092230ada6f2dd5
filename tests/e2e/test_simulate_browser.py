"""The call simulator in a real browser (Debian's chromium through Playwright, headless): a viewer's
view of a rejected call explained, refreshed into docs/screenshots/simulate-rejected-call.png for the
README; the fix links to the field it is about. Skipped like tests/e2e/test_browser.py without
chromium or playwright."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import _shot, browser, login, page  # noqa: F401  (the shared browser fixtures)

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_rejected_call_explained(page):  # noqa: F811
    from playwright.sync_api import expect

    from peers.demo import seed_demo
    from peers.models import Endpoint

    seed_demo(dialplan=True)
    page.goto("/hosts/demo/simulate/")
    page.fill("#id_address", "203.0.113.50:4569")
    page.fill("#id_username", "alice")
    page.fill("#id_secret", "Vq8-mU2x!rT4pz")
    page.fill("#id_exten", "201")
    page.click("form.sim-form button[type=submit]")
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("REJECTED")
    expect(verdict).to_contain_text("No authority found")
    expect(page.locator("#fix")).to_contain_text("add permit=203.0.113.50/32")
    expect(page.locator("#id_secret")).to_have_value("")  # the secret is not sent back
    _shot(page, "simulate-rejected-call.png", full_page=True)
    page.click("#fix a.button")
    alice = Endpoint.objects.get(host__name="demo", name="alice")
    page.wait_for_url(f"**/hosts/demo/endpoints/{alice.pk}/#row-permit")
    expect(page.locator("#row-permit")).to_be_visible()
