"""The log lines (iaxadmin/logs.py): one per request, one per audited change, as text or JSON,
never a secret, a query string or a credential."""

from __future__ import annotations

import getpass
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from iaxadmin import logs
from peers import services
from peers.iaxconf.parse import parse
from peers.models import Change, Host
from peers.security import roles
from peers.services import import_document
from tests.conftest import section

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Car0l-very-Secret-9f3k"


def record(message="GET / 200", event=None, created=1_796_040_000.123) -> logging.LogRecord:
    rec = logging.LogRecord("iaxadmin.request", logging.INFO, __file__, 1, message, (), None)
    rec.created = created
    if event is not None:
        setattr(rec, logs.EVENT, event)
    return rec


def test_text_lines_are_one_line_whatever_the_message_holds():
    line = logs.TextFormatter().format(record("GET /a\nFAKE 200\u2028x\x1b[31m"))
    assert line == "2026-11-30T12:00:00.123Z INFO iaxadmin.request GET /a\\x0aFAKE 200\\x2028x\\x1b[31m"


def test_json_lines_hold_the_event_fields():
    line = logs.JsonFormatter().format(record("GET / 200", {"method": "GET", "status": 200, "level": "x"}))
    assert json.loads(line) == {
        "time": "2026-11-30T12:00:00.123Z",
        "level": "INFO",  # an event field never overrides the line's own
        "logger": "iaxadmin.request",
        "message": "GET / 200",
        "method": "GET",
        "status": 200,
    }
    assert "\n" not in logs.JsonFormatter().format(record("a\nb"))


def test_an_unknown_format_or_stream_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be one of text, json, not 'xml'"):
        logs.logging_config("xml")
    with pytest.raises(ImproperlyConfigured, match="LOG_STREAM must be stdout or stderr, not 'file'"):
        logs.ConsoleHandler("file")


@pytest.fixture(params=["text", "json"])
def captured(request):
    """(format, stream): the request and audit loggers write into the stream in that format."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter() if request.param == "json" else logs.TextFormatter())
    loggers = [logging.getLogger(logs.REQUEST_LOGGER), logging.getLogger(logs.AUDIT_LOGGER)]
    for logger in loggers:
        logger.addHandler(handler)
    yield request.param, stream
    for logger in loggers:
        logger.removeHandler(handler)


def lines_of(captured) -> list:
    fmt, stream = captured
    lines = stream.getvalue().splitlines()
    return [json.loads(line) for line in lines] if fmt == "json" else lines


# ---------------------------------------------------------------------------------------------
# Requests


@pytest.mark.django_db
def test_one_line_per_request_with_user_status_and_path_without_query(client, django_user_model, captured):
    user = django_user_model.objects.create_user("alice", password="pw-for-tests-only")
    roles.set_role(user, "viewer")
    client.force_login(user)
    Host.objects.create(name="pbx1")
    client.get("/hosts/pbx1/endpoints/?q=tok-3f9a-QueryValue&page=1")
    client.get("/no-such-page/")

    lines = lines_of(captured)
    assert len(lines) == 2
    if captured[0] == "json":
        first, second = lines
        assert {k: first[k] for k in ("logger", "event", "method", "path", "status", "user", "addr")} == {
            "logger": "iaxadmin.request",
            "event": "request",
            "method": "GET",
            "path": "/hosts/pbx1/endpoints/",
            "status": 200,
            "user": "alice",
            "addr": "127.0.0.1",
        }
        assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
        assert (second["path"], second["status"]) == ("/no-such-page/", 404)
    else:
        assert " INFO iaxadmin.request GET /hosts/pbx1/endpoints/ 200 " in lines[0]
        assert lines[0].endswith(" user=alice addr=127.0.0.1")
        assert " GET /no-such-page/ 404 " in lines[1]
    assert "QueryValue" not in captured[1].getvalue() and "page=1" not in captured[1].getvalue()


@pytest.mark.django_db
def test_an_api_request_names_the_token_label_never_the_token(client, django_user_model, captured):
    user = django_user_model.objects.create_user("bob")
    roles.set_role(user, "viewer")
    _, token = services.create_user_token(user, "ansible", actor="test")
    assert client.get("/api/v1/hosts", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.get("/api/v1/hosts", headers={"Authorization": "Bearer iaxu_0123456789ab_wrong"})

    ok, refused = lines_of(captured)
    if captured[0] == "json":
        assert (ok["user"], ok["status"], refused["user"], refused["status"]) == (
            "api:ansible",
            200,
            "-",
            401,
        )
    else:
        assert "user=api:ansible" in ok and " 401 " in refused and "user=-" in refused
    assert token not in captured[1].getvalue() and "wrong" not in captured[1].getvalue()


def test_a_request_is_logged_without_looking_up_its_user(client, captured):
    # no django_db mark: a session or user query would fail this test
    client.cookies["sessionid"] = "x" * 32
    assert client.get("/healthz").status_code == 200  # answered before the request logger: no line
    assert client.get("/static/css/app.css").status_code == 200
    (line,) = lines_of(captured)
    assert (line["user"], line["status"]) == ("-", 200) if captured[0] == "json" else "user=-" in line


# ---------------------------------------------------------------------------------------------
# Audited changes


@pytest.mark.django_db
def test_one_line_per_change_after_the_commit_and_never_a_secret(
    captured, django_capture_on_commit_callbacks
):
    host = Host.objects.create(name="pbx1")
    with django_capture_on_commit_callbacks(execute=True):
        services.save_endpoint(
            host, section("carol", f"type=friend\nhost=dynamic\nsecret={SECRET}\ncontext=x"), actor="cli:ops"
        )
    change = Change.objects.get()
    (line,) = lines_of(captured)
    if captured[0] == "json":
        assert {k: v for k, v in line.items() if k not in ("time", "message")} == {
            "level": "INFO",
            "logger": "iaxadmin.audit",
            "event": "change",
            "change_id": change.pk,
            "actor": "cli:ops",
            "action": "create",
            "object_type": "endpoint",
            "object_id": change.object_id,
            "object": "[carol]",
            "host": "pbx1",
            "batch": str(change.batch),
        }
    else:
        assert line.endswith(
            f" INFO iaxadmin.audit cli:ops create endpoint [carol] host=pbx1 batch={change.batch}"
        )
    assert SECRET not in captured[1].getvalue()


@pytest.mark.django_db
def test_a_change_rolled_back_is_not_logged(captured, django_capture_on_commit_callbacks):
    host = Host.objects.create(name="pbx1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.save_endpoint(
                host, section("carol", "type=friend\nhost=dynamic\nsecret=C4rol-7yHq2m"), actor="test"
            )
            raise RuntimeError("a later step of the same change failed")
    assert callbacks == [] and captured[1].getvalue() == ""


@pytest.mark.django_db
def test_an_import_logs_a_line_for_each_change_of_its_batch(captured, django_capture_on_commit_callbacks):
    text = "[general]\nbindport=4569\n\n[a]\ntype=friend\nhost=dynamic\n\n[b]\ntype=peer\nhost=192.0.2.1\n"
    with django_capture_on_commit_callbacks(execute=True):
        report = import_document(parse(text, file="iax.conf").document, host_name="pbx1", actor="cli:ops")
    changes = list(Change.objects.filter(batch=report.batch).order_by("id"))
    lines = lines_of(captured)
    assert len(lines) == len(changes) == 4  # the host, [general], [a], [b]
    if captured[0] == "json":
        assert [(line["change_id"], line["object"]) for line in lines] == [
            (c.pk, c.object_repr) for c in changes
        ]
        assert {line["batch"] for line in lines} == {str(report.batch)}


def test_log_lines_of_manage_py_go_to_stderr_and_leave_its_output_alone(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "LOG_STREAM", "LOG_FORMAT", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="yes",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        LOG_FORMAT="json",
        IAXADMIN_ENCRYPTION_KEY="dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("migrate", "--noinput").returncode == 0
    result = manage("iax_demo")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Seeded host 'demo'.")
    assert "iaxadmin.audit" not in result.stdout
    audit = [json.loads(line) for line in result.stderr.splitlines() if '"iaxadmin.audit"' in line]
    assert {(line["object_type"], line["host"]) for line in audit if line["host"] != "demo"} == {
        ("key", ""),
        ("user", ""),
    }
    assert f"cli:{getpass.getuser()}" in {line["actor"] for line in audit}
