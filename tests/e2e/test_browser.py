"""End-to-end tests in a real browser: Playwright for Python driving Debian's chromium (headless)
against pytest-django's live server, at a desktop size and at a 390x844 phone size. They check the
editing experience of issue 14 (effective values, real inputs, forms that keep work, keyboard and
screen-reader behaviour), run axe-core over every page, and save the README's screenshots to
docs/screenshots/.

Skipped, with a message saying why, when chromium or playwright is missing (``.ci/run`` installs
chromium with apt; ``pip install -e '.[test]'`` installs playwright). Playwright's browser
download (``playwright install``) is never used. axe-core is a test tool from npm
(tests/e2e/package.json, ``npm ci --prefix tests/e2e``), injected from node_modules; without it
the axe test is skipped with a message.
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
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CORPUS_FILE = ROOT / "tests" / "data" / "corpus" / "03_YukariChiba_asterisk-config.conf"
PASSWORD = "pw-for-browser-tests"
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}
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
def login(browser, live_server, django_user_model):
    """A function that opens a logged-in page at a viewport size (the admin user exists once)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    from peers.security.roles import set_role

    set_role(django_user_model.objects.create_user("admin", password=PASSWORD), "admin")
    contexts = []

    def open_page(viewport=DESKTOP):
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/$"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(login):
    return login()


@pytest.fixture
def demo(db):
    from peers.demo import seed_demo

    return seed_demo()


def _shot(page, name: str, **kwargs) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **kwargs)


def _pk(name: str, host: str = "demo") -> int:
    from peers.models import Endpoint

    return Endpoint.objects.get(host__name=host, name=name).pk


def _add_directive(page, name: str) -> None:
    """Use the "Add a directive" search: type the name, Enter goes to its input."""
    page.fill("#directive-search", name)
    page.press("#directive-search", "Enter")


# -------------------------------------------------------------------------------------------------
# The main flow: create a friend, a key, an import


def test_friend_key_and_import_in_the_browser(page, demo):
    from playwright.sync_api import expect

    from peers.models import Endpoint, Key

    page.goto("/")
    expect(page.locator(".who")).to_have_text("admin")
    expect(page.locator(".user-nav")).not_to_contain_text("admin admin")

    # A new friend: the usual first directives are there, the rest one search away.
    page.goto("/hosts/demo/endpoints/new/friend/")
    expect(page.locator("h1")).to_have_text("New friend")  # not "New friend friend"
    page.fill("#id_name", "carol")
    page.fill("#id_host", "dynamic")
    page.fill("#id_secret", "Carol-9f3k-Tq2m")
    page.fill("#id_context", "from-office")
    # codecs: an ordered pick list of allow/disallow lines
    codecs = page.locator("#id_allow > li")
    codecs.nth(0).locator("select").nth(0).select_option("disallow")
    codecs.nth(0).locator("select").nth(1).select_option("all")
    expect(codecs).to_have_count(1)  # the spare lines of the no-JavaScript form give way to "Add a line"
    page.click("#row-allow .add-line")
    codecs.nth(1).locator("select").nth(1).select_option("g722")
    page.click("#row-allow .add-line")
    expect(codecs.nth(2).locator("select").nth(1)).to_be_focused()
    codecs.nth(2).locator("select").nth(1).select_option("ulaw")
    # a bad value is flagged at its field while typing, with aria-invalid and the live region
    _add_directive(page, "qualify")
    expect(page.locator("#id_qualify")).to_be_focused()
    page.keyboard.type("sometimes", delay=20)
    row = page.locator("#row-qualify")
    expect(row).to_have_class(re.compile("has-error"))
    expect(page.locator("#id_qualify_messages")).to_contain_text(
        "must be yes, no or a number of milliseconds"
    )
    expect(page.locator("#id_qualify")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-status")).to_contain_text("qualify: qualify='sometimes' must be")
    page.keyboard.type("x", delay=20)  # the input kept its focus and value across the check
    expect(page.locator("#id_qualify")).to_have_value("sometimesx")
    row.scroll_into_view_if_needed()
    _shot(page, "edit-form-inline-error.png")

    page.fill("#id_qualify", "yes")
    page.press("#id_qualify", "Tab")
    expect(row).not_to_have_class(re.compile("has-error"))
    expect(page.locator("#id_qualify")).not_to_have_attribute("aria-invalid", "true")
    preview = page.locator("#preview-text")
    expect(preview).to_contain_text("disallow=all\nallow=g722\nallow=ulaw")
    expect(preview).to_contain_text("secret=********")
    expect(preview).not_to_contain_text("Carol-9f3k")
    expect(page.locator("#preview-status")).to_have_text("Preview updated.")
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

    # Generate a key (with a passphrase) and use it as carol's outkey, from a select of keys.
    page.goto("/keys/generate/")
    page.fill("#id_name", "carol-key")
    page.fill("#id_passphrase", "a long passphrase")
    page.fill("#id_passphrase2", "a long passphrase")
    page.click("button:text('Generate')")
    expect(page.locator("#key-carol-key")).to_contain_text("yes, encrypted")
    assert "PRIVATE KEY" not in page.content()
    page.goto(f"/hosts/demo/endpoints/{carol.pk}/")
    _add_directive(page, "outkey")
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


# -------------------------------------------------------------------------------------------------
# Part 1: effective values


def test_inherited_values_are_shown_overridden_and_filtered(page, demo):
    from playwright.sync_api import expect

    from peers.models import Endpoint

    page.goto(f"/hosts/demo/endpoints/{_pk('alice')}/")
    qualify = page.locator("#row-qualify")
    expect(page.locator("#group-inherited")).to_contain_text("Inherited from templates")
    expect(qualify.locator(".state")).to_contain_text("inherited yes from [office-phone]")
    expect(qualify.locator(".state a")).to_have_attribute(
        "href", f"/hosts/demo/endpoints/{_pk('office-phone')}/"
    )
    expect(page.locator("#id_qualify")).to_have_value("")  # no placeholder posing as a value
    expect(page.locator("#row-transfer select option").first).to_have_text(
        "not set: mediaonly from [office-phone]"
    )
    expect(page.locator("#row-host .state")).to_contain_text("inherited dynamic from [office-phone]")
    expect(page.locator("#row-allow .state")).to_contain_text("disallow=all, allow=g722, allow=ulaw")
    expect(page.locator("#row-callerid .state")).to_contain_text("set here")
    _add_directive(page, "trunk")
    expect(page.locator("#row-trunk .state")).to_contain_text("default Asterisk's default: no")
    page.locator("#group-inherited").scroll_into_view_if_needed()
    _shot(page, "edit-form-inherited.png")

    # override qualify: the inherited value is offered for editing, then saved as alice's own
    qualify.locator("button:text('override')").click()
    expect(page.locator("#id_qualify")).to_have_value("yes")
    expect(page.locator("#id_qualify")).to_be_focused()
    page.fill("#id_qualify", "3000")
    expect(page.locator("#preview-text")).to_contain_text("qualify=3000")
    page.click("button:text('Save')")
    expect(page.locator(".messages")).to_contain_text("Saved [alice].")
    expect(page.locator("#row-qualify .state")).to_contain_text("set here replaces yes from [office-phone]")
    assert Endpoint.objects.get(host__name="demo", name="alice").qualify == "3000"

    # the list shows effective values and its filters use them
    page.goto("/hosts/demo/endpoints/?address=dynamic")
    rows = page.locator("#endpoint-table tbody tr")
    expect(rows).to_have_count(4)  # the template, alice and bob through it, and branch
    expect(rows.nth(1)).to_contain_text("dynamic ↳inherited from office-phone")


# -------------------------------------------------------------------------------------------------
# Part 2: real inputs


def test_inputs_follow_the_catalogue_and_codecs_reorder_by_keyboard_and_drag(page, demo):
    from playwright.sync_api import expect

    page.goto("/hosts/demo/general/")
    expect(page.locator("#id_jitterbuffer")).to_have_js_property("tagName", "SELECT")
    expect(page.locator("#id_jitterbuffer option")).to_have_text(
        ["not set: no (Asterisk's default)", "yes", "no"]
    )
    _add_directive(page, "trunkfreq")
    expect(page.locator("#id_trunkfreq")).to_have_attribute("type", "number")
    expect(page.locator("#id_trunkfreq")).to_have_attribute("min", "10")
    expect(page.locator("#id_trunkfreq")).to_have_attribute("max", "1000")
    expect(page.locator("#id_bandwidth option")).to_have_text(
        ["not set: high (Asterisk's default)", "low", "medium", "high"]
    )
    page.locator("#row-allow").scroll_into_view_if_needed()
    _shot(page, "general-form.png")

    page.goto(f"/hosts/demo/endpoints/{_pk('provider')}/")
    expect(page.locator("#id_auth input[type=checkbox]")).to_have_count(3)
    expect(page.locator("#id_auth input[value=rsa]")).to_be_checked()
    expect(page.locator("#id_outkey")).to_have_value("demo-pbx")
    preview = page.locator("#preview-text")
    expect(preview).to_contain_text("disallow=all\nallow=ulaw\nallow=g729")
    # keyboard: the "move up" button of the g729 line
    g729 = page.locator("#id_allow > li").nth(2)
    g729.locator("button[aria-label='Move up']").focus()
    page.keyboard.press("Enter")
    expect(preview).to_contain_text("disallow=all\nallow=g729\nallow=ulaw")
    expect(page.locator("#js-status")).to_contain_text("g729 moved to line 2")
    expect(page.locator("#id_allow > li").nth(1).locator("button[aria-label='Move up']")).to_be_focused()
    # mouse: drag ulaw above g729 again
    page.locator("#id_allow > li").nth(2).locator(".drag-handle").drag_to(
        page.locator("#id_allow > li").nth(1).locator(".drag-handle"), target_position={"x": 2, "y": 1}
    )
    expect(preview).to_contain_text("disallow=all\nallow=ulaw\nallow=g729")
    page.locator("#row-allow").scroll_into_view_if_needed()
    _shot(page, "codecs.png")


# -------------------------------------------------------------------------------------------------
# Part 3: forms that keep work


def test_a_refused_save_keeps_the_secret_and_focuses_the_first_problem(page, demo):
    from playwright.sync_api import expect

    page.goto("/hosts/demo/endpoints/new/user/")
    page.fill("#id_name", "dave")
    page.fill("#id_secret", "Dave-secret-4k9q")
    page.fill("#id_context", "bad context")
    _add_directive(page, "auth")
    page.check("#id_auth input[value=rsa]")
    page.click("button:text('Save')")
    expect(page.locator("#error-summary")).to_contain_text("This section cannot be saved")
    # every error at once: the value error and the two-field one
    expect(page.locator("#id_context_messages")).to_contain_text("is not a dialplan context name")
    expect(page.locator("#id_auth_messages")).to_contain_text("no inkeys")
    expect(page.locator("#id_secret")).to_have_value("Dave-secret-4k9q")  # kept, in its password box
    # the first field with an error on the page (auth comes before context in the catalogue's order)
    expect(page.locator("#id_auth input").first).to_be_focused()
    assert page.evaluate("document.activeElement.closest('.field').id") == "row-auth"
    # fixing inkeys re-checks the whole section: auth's error is gone too
    _add_directive(page, "inkeys")
    page.check("#id_inkeys input[value=hq]")
    expect(page.locator("#id_auth_messages")).to_be_empty()
    expect(page.locator("#row-auth")).not_to_have_class(re.compile("has-error"))
    page.fill("#id_context", "from-dave")
    page.click("button:text('Save')")
    expect(page.locator(".messages")).to_contain_text("Saved [dave].")

    from peers.models import Endpoint

    assert Endpoint.objects.get(host__name="demo", name="dave").secret == "Dave-secret-4k9q"


# -------------------------------------------------------------------------------------------------
# Part 7: keyboard and screen readers


def test_keyboard_skip_link_save_bar_and_described_fields(page, demo):
    from playwright.sync_api import expect

    page.goto(f"/hosts/demo/endpoints/{_pk('alice')}/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    stops = 0
    while page.evaluate("document.activeElement.id") != "id_name":
        page.keyboard.press("Tab")
        stops += 1
        assert stops <= 5, "the skip link should land a few stops before the first field"

    # every field reached with Tab is above the sticky save bar, never under it
    page.set_viewport_size({"width": 1000, "height": 600})
    page.focus("#id_name")
    for _ in range(40):
        page.keyboard.press("Tab")
        hidden = page.evaluate(
            """() => {
                const el = document.activeElement, bar = document.querySelector('.form-actions');
                if (!el || bar.contains(el) || el.closest('.preview-pane')) return false;
                const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
                return r.bottom > b.top && r.top < b.bottom;
            }"""
        )
        assert not hidden, page.evaluate("document.activeElement.outerHTML.slice(0, 120)")


PAGES = [
    "/",
    "/hosts/demo/",
    "/hosts/demo/endpoints/",
    "/hosts/demo/endpoints/new/friend/",
    "/hosts/demo/endpoints/new/template/",
    "/hosts/demo/endpoints/{alice}/",
    "/hosts/demo/endpoints/{office}/",
    "/hosts/demo/endpoints/{alice}/clone/",
    "/hosts/demo/endpoints/{bob}/delete/",
    "/hosts/demo/general/",
    "/hosts/demo/registrations/",
    "/hosts/demo/registrations/{registration}/",
    "/hosts/demo/registrations/{registration}/delete/",
    "/hosts/demo/callnumberlimits/",
    "/hosts/demo/callnumberlimits/{limit}/",
    "/hosts/demo/callnumberlimits/{limit}/delete/",
    "/hosts/demo/findings/",
    "/hosts/demo/history/",
    "/changes/{change}/",
    "/hosts/demo/revisions/",
    "/hosts/demo/revisions/diff/?a=1",
    "/hosts/demo/publish/",
    "/hosts/demo/tokens/",
    "/keys/",
    "/keys/generate/",
    "/keys/upload/",
    "/import/",
    "/hosts/demo/endpoints/check/friend/",
]


def _every_page(demo) -> list[str]:
    from peers import services
    from peers.models import CallNumberLimit, Change, Registration

    if not demo.revisions.exists():
        services.publish(demo, actor="test", message="first")
    values = {
        "alice": _pk("alice"),
        "office": _pk("office-phone"),
        "bob": _pk("bob"),
        "registration": Registration.objects.filter(host=demo).first().pk,
        "limit": CallNumberLimit.objects.filter(host=demo).first().pk,
        "change": Change.objects.filter(host=demo, object_type="endpoint").first().pk,
    }
    return [path.format(**values) for path in PAGES]


def test_every_page_refers_to_ids_that_exist_and_loads_without_errors(page, demo):
    failed = []
    page.on(
        "response",
        lambda r: failed.append((r.status, r.url)) if r.status >= 400 and r.status != 405 else None,
    )
    for path in _every_page(demo):
        page.goto(path)
        broken = page.evaluate(
            """() => [...document.querySelectorAll('[aria-describedby], [aria-controls], [aria-labelledby], label[for]')]
                .flatMap(el => ['aria-describedby', 'aria-controls', 'aria-labelledby', 'for']
                    .flatMap(a => (el.getAttribute(a) || '').split(/\\s+/).filter(Boolean)
                        .filter(id => !document.getElementById(id)).map(id => a + '=' + id)))"""
        )
        assert broken == [], f"{path}: {broken}"
    assert failed == []  # no 404 favicon, nothing else missing


def test_axe_finds_no_violation_on_any_page(login, demo):
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE}): run npm ci --prefix tests/e2e")
    paths = _every_page(demo)
    found = {}
    for viewport in (DESKTOP, PHONE):
        page = login(viewport)
        for path in paths:
            page.goto(path)
            page.add_script_tag(path=str(AXE))
            violations = page.evaluate(
                """async () => (await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
                    .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""
            )
            if violations:
                found[f"{viewport['width']} {path}"] = violations
    assert found == {}


def test_phone_pages_fit_the_screen_and_the_preview_is_one_tap_away(login, demo):
    from playwright.sync_api import expect

    page = login(PHONE)
    for path in _every_page(demo):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
    # table actions stay on screen
    page.goto("/hosts/demo/registrations/")
    delete = page.locator("table.list td.row-actions a").first
    box = delete.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"]
    page.goto(f"/hosts/demo/endpoints/{_pk('alice')}/")
    _shot(page, "phone-form.png")
    page.click(".title-row a:text('Preview')")
    expect(page.locator("#preview-text")).to_be_in_viewport()


def test_the_forms_work_without_javascript(browser, live_server, login, demo):
    from playwright.sync_api import expect

    from peers.models import Endpoint

    login()  # the user exists
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto("/hosts/demo/endpoints/new/friend/")
        expect(page.locator("#directive-search")).to_be_hidden()  # the search needs JavaScript
        page.fill("#id_name", "nojs")
        page.fill("#id_host", "dynamic")
        page.fill("#id_secret", "NoJs-secret-7q2x")
        page.fill("#id_context", "from-nojs")
        rows = page.locator("#id_allow > li")
        expect(rows).to_have_count(2)  # spare lines to fill in
        rows.nth(0).locator("select").nth(0).select_option("disallow")
        rows.nth(0).locator("select").nth(1).select_option("all")
        rows.nth(1).locator("select").nth(1).select_option("gsm")
        page.click("#group-trunking summary")  # a closed group of "Add a directive"
        page.select_option("#id_trunk", "yes")
        page.click("button:text('Preview')")  # the no-JavaScript preview: the whole page again
        expect(page.locator("#preview-text")).to_contain_text("disallow=all\nallow=gsm")
        expect(page.locator("#id_secret")).to_have_value("NoJs-secret-7q2x")  # kept across the preview
        expect(page.locator("#id_allow > li")).to_have_count(4)  # two more spare lines
        page.click("button:text('Save')")
        expect(page.locator(".messages")).to_contain_text("Saved [nojs].")
        saved = Endpoint.objects.get(host__name="demo", name="nojs")
        assert saved.trunk is True and saved.secret == "NoJs-secret-7q2x"
    finally:
        context.close()
