"""Several app servers, one database: two gunicorn servers on two ports share one PostgreSQL
database and nothing else. Everything goes through HTTP only, as a browser without JavaScript
behind a load balancer without sticky sessions would: a session opened on one server works on the
other, an edit made on one is seen on the other, two publishes at once (one per server) get
consecutive revision numbers, and an import checked on one server is confirmed on the other by
posting back exactly the form its dry-run page gave.

Skipped, saying why, without PostgreSQL or gunicorn.
"""

from __future__ import annotations

import re
import secrets
import threading
from pathlib import Path

import pytest

from .servers import (
    Browser,
    Server,
    deploy,
    form_to,
    gunicorn_or_skip,
    manage,
    production_env,
    scratch_database,
)

PASSWORD = "ops-" + secrets.token_urlsafe(12)
CORPUS_FILE = Path(__file__).resolve().parents[1] / "data" / "corpus" / "03_YukariChiba_asterisk-config.conf"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    gunicorn_or_skip()
    tmp = tmp_path_factory.mktemp("two-servers")
    with scratch_database("two") as database_url:
        env = production_env(database_url, tmp / "static")
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
        a = Server(env, tmp / "a.log").start()
        try:
            b = Server(env, tmp / "b.log").start()
            try:
                yield a, b
            finally:
                b.stop()
        finally:
            a.stop()


def messages(html: str) -> list[str]:
    return re.findall(r'<li class="msg [^"]*">([^<]*)</li>', html)


def test_a_session_and_an_edit_on_one_server_are_seen_on_the_other(servers):
    a, b = servers
    assert a.port != b.port
    browser = Browser()
    browser.login(a, "ops", PASSWORD)
    assert browser.get(b, "/hosts/demo/").status == 200  # the session is in the database

    new = "/hosts/demo/endpoints/new/friend/"
    form = form_to(browser.get(a, new).text, new)
    saved = browser.submit(
        a, new, form, name="dave", host="dynamic", secret="Dave-7g2k-Long-Secret", context="from-office"
    )
    assert saved.status == 302, saved.text[:2000]
    edit = saved.headers["location"]
    assert re.fullmatch(r"/hosts/demo/endpoints/\d+/", edit)

    page = browser.get(b, edit)  # the other server, the next request
    assert page.status == 200
    assert messages(page.text) == ["Saved [dave]."]  # the message travelled too (cookie or session)
    listed = browser.get(b, "/hosts/demo/endpoints/?q=dave")
    assert 'href="' + edit + '"' in listed.text


def test_a_publish_on_both_servers_at_once_gives_consecutive_revisions(servers):
    a, b = servers
    publishers = [(Browser(), a), (Browser(), b)]  # two people, one server each
    forms = []
    for browser, server in publishers:
        browser.login(server, "ops", PASSWORD)
        page = browser.get(server, "/hosts/demo/publish/").text
        # the page has a second form to the same address where Asterisk is installed (the check)
        forms.append(form_to(page, "/hosts/demo/publish/", having="message"))
    together = threading.Barrier(len(publishers))
    answers = [None] * len(publishers)

    def publish(i: int) -> None:
        browser, server = publishers[i]
        together.wait(timeout=30)
        answers[i] = browser.submit(server, "/hosts/demo/publish/", forms[i], message=f"from server {i}")

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(len(publishers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert [r.status for r in answers] == [302, 302], [r.text[:1000] for r in answers if r.status != 302]
    said = []
    for (browser, server), answer in zip(publishers, answers, strict=True):
        said += messages(browser.get(server, answer.headers["location"]).text)
    numbers = sorted(int(re.fullmatch(r"Published demo revision (\d+)\.", m).group(1)) for m in said)
    assert numbers[1] == numbers[0] + 1
    listing = publishers[0][0].get(b, "/hosts/demo/revisions/").text
    shown = [int(n) for n in re.findall(r"<td>r(\d+)</td>", listing)]
    assert shown[:2] == [numbers[1], numbers[0]]  # both on either server, newest first


def test_an_import_checked_on_one_server_is_confirmed_on_the_other(servers):
    a, b = servers
    browser = Browser()
    browser.login(a, "ops", PASSWORD)

    upload = form_to(browser.get(a, "/import/").text, "/import/", page="/import/")
    dry_run = browser.submit(
        a, "/import/", upload, files=[("conf", CORPUS_FILE.name, CORPUS_FILE.read_bytes())], host="yukari"
    )
    assert dry_run.status == 200
    assert "Dry run for host yukari" in dry_run.text
    assert browser.get(b, "/hosts/yukari/").status == 404  # nothing written yet

    confirm = form_to(dry_run.text, "/import/confirm/")
    done = browser.submit(b, "/import/", confirm)  # exactly the fields the dry-run page gave
    assert (done.status, done.headers.get("location")) == (302, "/hosts/yukari/"), done.text[:2000]
    assert any(
        m.startswith("Imported into yukari: ") for m in messages(browser.get(b, "/hosts/yukari/").text)
    )
    endpoints = browser.get(a, "/hosts/yukari/endpoints/").text
    assert ">fax1<" in endpoints and ">fax2<" in endpoints
