"""End-to-end tests in a real browser: Playwright for Python driving Debian's chromium (headless)
against pytest-django's live server. They save screenshots of the main pages to docs/screenshots/.

Skipped, with a message saying why, when chromium or playwright is missing (``.ci/run`` installs
chromium with apt; ``pip install -e '.[test]'`` installs playwright). Playwright's browser
download (``playwright install``) is never used.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told this is fine (it is: the tests are synchronous).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CORPUS_FILE = ROOT / "tests" / "data" / "corpus" / "03_YukariChiba_asterisk-config.conf"
PASSWORD = "pw-for-browser-tests"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.django_db(transaction=True)]


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"browser tests skipped: chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, django_user_model):
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    from peers.security.roles import set_role

    set_role(django_user_model.objects.create_user("admin", password=PASSWORD), "admin")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    yield page
    context.close()


def _shot(page, name: str, **kwargs) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **kwargs)


def test_friend_key_and_import_in_the_browser(page):
    from playwright.sync_api import expect

    from peers.demo import seed_demo
    from peers.models import Endpoint, Key

    seed_demo()
    page.goto("/")
    expect(page.locator(".who")).to_have_text("admin")

    # Create a friend with codecs and an ACL; a bad codec is flagged at the field as it is typed.
    page.goto("/hosts/demo/endpoints/new/friend/")
    page.fill("#id_name", "carol")
    page.fill("#id_host", "dynamic")
    page.fill("#id_secret", "Carol-9f3k-Tq2m")
    page.fill("#id_context", "from-office")
    page.click("#id_allow")
    page.keyboard.type("disallow=all\nallow=g722\nallow=g711", delay=20)
    row = page.locator("#row-allow")  # flagged while typing: no need to leave the field
    expect(row).to_have_class(re.compile("has-error"))
    expect(row.locator(".errors")).to_contain_text("'g711' is not a codec IAX2 can carry")
    page.keyboard.type("x", delay=20)  # the input kept its focus and value across the swap
    expect(page.locator("#id_allow")).to_have_value("disallow=all\nallow=g722\nallow=g711x")
    page.fill("#id_permit", "deny=0.0.0.0/0.0.0.0\npermit=192.168.10.0/255.255.255.0")
    page.press("#id_permit", "Tab")
    expect(page.locator("#preview-text")).to_contain_text("permit=192.168.10.0/255.255.255.0")
    row.scroll_into_view_if_needed()
    _shot(page, "edit-form-inline-error.png")

    page.fill("#id_allow", "disallow=all\nallow=g722\nallow=ulaw")
    page.press("#id_allow", "Tab")
    expect(page.locator("#row-allow")).not_to_have_class(re.compile("has-error"))
    preview = page.locator("#preview-text")
    expect(preview).to_contain_text("disallow=all\nallow=g722\nallow=ulaw")
    expect(preview).to_contain_text("secret=********")
    expect(preview).not_to_contain_text("Carol-9f3k")
    page.locator(".preview-pane").scroll_into_view_if_needed()
    _shot(page, "preview.png")

    page.click("button:text('Save')")
    expect(page.locator(".messages")).to_contain_text("Saved [carol].")
    expect(page.locator("#preview-text")).to_contain_text("[carol]\ntype=friend\nhost=dynamic")
    carol = Endpoint.objects.get(host__name="demo", name="carol")
    assert carol.secret == "Carol-9f3k-Tq2m"

    # It shows in the list; the search updates the table as it is typed.
    page.goto("/hosts/demo/endpoints/")
    expect(page.locator("#endpoint-table")).to_contain_text("carol")
    _shot(page, "list.png", full_page=True)
    page.fill("#q", "caro")
    expect(page.locator("#endpoint-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=caro"))

    # Generate a key (with a passphrase) and use it as carol's outkey.
    page.goto("/keys/generate/")
    page.fill("#id_name", "carol-key")
    page.fill("#id_passphrase", "a long passphrase")
    page.fill("#id_passphrase2", "a long passphrase")
    page.click("button:text('Generate')")
    expect(page.locator("#key-carol-key")).to_contain_text("yes, encrypted")
    assert "PRIVATE KEY" not in page.content()
    page.goto(f"/hosts/demo/endpoints/{carol.pk}/")
    page.select_option("#id_outkey", "carol-key")
    expect(page.locator("#preview-text")).to_contain_text("outkey=carol-key")
    page.click("button:text('Save')")
    expect(page.locator(".messages")).to_contain_text("Saved [carol].")
    carol.refresh_from_db()
    assert carol.outkey == Key.objects.get(name="carol-key")
    assert carol.secret == "Carol-9f3k-Tq2m"  # a blank secret field kept it
    page.goto("/keys/")
    expect(page.locator("#key-carol-key")).to_contain_text("outkey: demo/carol")

    # Import a corpus file: dry run first, then confirm.
    page.goto("/import/")
    page.fill("#id_host", "yukari")
    page.set_input_files("#id_conf", str(CORPUS_FILE))
    page.click("button:text('Check (dry run)')")
    report = page.locator("#dry-run")
    expect(report).to_contain_text("Dry run for host yukari")
    assert not Endpoint.objects.filter(host__name="yukari").exists()
    _shot(page, "import-dry-run.png", full_page=True)
    page.click("button:text('Import into yukari')")
    expect(page.locator(".messages")).to_contain_text("Imported into yukari")
    assert set(Endpoint.objects.filter(host__name="yukari").values_list("name", flat=True)) == {
        "fax1",
        "fax2",
    }
    page.goto("/hosts/yukari/findings/")
    expect(page.locator("table.findings")).to_contain_text("requirecalltoken=no")
    _shot(page, "findings.png", full_page=True)
