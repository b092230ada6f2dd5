"""iaxadmin as README.md's "Running in production" runs it: gunicorn with deploy/gunicorn.conf.py,
DEBUG off, a PostgreSQL database made for the test, the deploy step (check --deploy, migrate,
createcachetable, collectstatic into a temporary STATIC_ROOT), a user given a role with manage.py,
and Debian's chromium loading the pages: the stylesheets apply and htmx is there. Then the health,
readiness and metrics endpoints, the static files' cache headers, and the log lines.

Skipped, saying why, without PostgreSQL, gunicorn, playwright or chromium.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path

import pytest

from .servers import (
    Browser,
    Server,
    deploy,
    gunicorn_or_skip,
    manage,
    production_env,
    request,
    scratch_database,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "ops-" + secrets.token_urlsafe(12)
BG = "rgb(246, 247, 249)"  # body { background: var(--bg) } in static/css/app.css


def chromium_or_skip() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """(server, metrics token): one production server with the demo host and user "ops" (admin)."""
    gunicorn_or_skip()
    tmp = tmp_path_factory.mktemp("production")
    token = secrets.token_urlsafe(32)
    with scratch_database("prod") as database_url:
        env = production_env(database_url, tmp / "static", IAXADMIN_METRICS_TOKEN=token, LOG_FORMAT="json")
        deploy(env)
        manage(env, "iax_demo")
        manage(
            {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            "createsuperuser",
            "--noinput",
            "--username",
            "ops",
            "--email",
            "",
        )
        manage(env, "iax_role", "--user", "ops", "--role", "admin")
        server = Server(env, tmp / "gunicorn.log").start()
        try:
            yield server, token
        finally:
            server.stop()


def _styles(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_the_pages_load_their_stylesheets_and_htmx_in_chromium(production):
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    server, _ = production
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(base_url=server.url)
            page.set_default_timeout(15_000)
            failed = []
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

            assert page.goto("/login/").status == 200
            css = page.eval_on_selector('link[rel="stylesheet"]', "e => e.getAttribute('href')")
            assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", css), css  # hashed by the manifest
            script = page.eval_on_selector("script[src]", "e => e.getAttribute('src')")
            assert re.fullmatch(r"/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js", script), script
            assert _styles(page, "body", "backgroundColor") == BG
            assert _styles(page, "header.top", "display") == "flex"
            page.wait_for_function("() => window.htmx !== undefined")  # the script is deferred
            assert page.evaluate("() => htmx.version").startswith("2.")

            page.fill("#id_username", "ops")
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server.url}/")
            assert page.inner_text(".who") == "ops"

            assert page.goto("/hosts/demo/").status == 200
            assert _styles(page, ".tabs", "display") == "flex"
            assert _styles(page, ".tabs a.active", "backgroundColor") == "rgb(255, 255, 255)"
            page.wait_for_function("() => window.htmx !== undefined")
            assert page.evaluate("() => typeof htmx.ajax") == "function"

            assert page.goto("/hosts/demo/history/").status == 200  # history.css, loaded by this page only
            assert _styles(page, ".history .filters", "display") == "flex"
            assert _styles(page, ".action-create", "backgroundColor") == "rgb(227, 244, 232)"
            assert failed == []
        finally:
            browser.close()


def test_static_files_are_compressed_and_cached_for_good(production):
    server, _ = production
    login = request(server.url, "GET", "/login/", headers={"Host": "127.0.0.1"})
    hashed = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.text).group(1)

    response = request(server.url, "GET", hashed, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["cache-control"] == "max-age=315360000, public, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/css")

    plain = request(server.url, "GET", "/static/css/app.css")  # the unhashed name: a short cache
    assert plain.status == 200 and plain.headers["cache-control"] == "max-age=60, public"
    assert plain.body == (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_bytes()
    assert request(server.url, "GET", "/static/css/missing.css").status == 404


def test_health_readiness_and_metrics_answer_only_what_they_should(production):
    server, token = production
    for path in ("/healthz", "/readyz"):
        response = request(server.url, "GET", path, headers={"Host": "10.1.2.3:8000"})  # a probe by address
        assert (response.status, response.text) == (200, "ok\n"), path
        assert response.headers["cache-control"] == "no-store"

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
        refused = request(server.url, "GET", "/metrics", headers={"Host": "127.0.0.1", **headers})
        assert refused.status == 401
        assert refused.text == "unauthorized\n"  # nothing about hosts, versions or why
    metrics = request(server.url, "GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    assert metrics.status == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'iaxadmin_host_latest_revision{host="demo"} 0.0' in metrics.text
    assert 'iaxadmin_host_findings{host="demo",severity="error"} 0.0' in metrics.text
    assert 'iaxadmin_host_last_contact_age_seconds{host="demo"} +Inf' in metrics.text

    missing = request(server.url, "GET", "/no-such-page/", headers={"Host": "127.0.0.1"})
    assert missing.status == 404 and "DEBUG" not in missing.text  # no debug page in production


def test_one_json_log_line_per_request_without_query_values_or_credentials(production):
    server, token = production
    browser = Browser()
    browser.login(server, "ops", PASSWORD)
    assert browser.get(server, "/hosts/demo/endpoints/?q=tok-QueryValue-7f3a").status == 200
    request(server.url, "GET", "/metrics", headers={"Authorization": f"Bearer {token}"})

    log = server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) == len(log.splitlines())  # every line is JSON
    requests = [line for line in lines if line["logger"] == "iaxadmin.request"]
    listed = [r for r in requests if r["path"] == "/hosts/demo/endpoints/"]
    assert listed and listed[-1]["user"] == "ops" and listed[-1]["status"] == 200
    assert listed[-1]["method"] == "GET" and isinstance(listed[-1]["duration_ms"], float)
    login = [r for r in requests if r["path"] == "/login/" and r["method"] == "POST"][-1]
    assert login["status"] == 302
    assert any(line["logger"] == "gunicorn.access" for line in lines)
    for secret in ("tok-QueryValue-7f3a", token, PASSWORD, browser.cookies["sessionid"]):
        assert secret not in log
