from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_settings():
    unset = {
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # the browser tests set the last one
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), DEBUG="no", ALLOWED_HOSTS="iax.example.net")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_database_unavailable_gives_a_503_page_not_a_traceback(client, django_user_model, monkeypatch):
    from django.db.backends import utils

    client.force_login(django_user_model.objects.create_user("ann", password="pw-for-tests-only"))

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(utils.CursorWrapper, "execute", down)  # every query fails, from the session on
    response = client.get(reverse("peers:host-list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "The configuration database is unavailable right now" in response.content.decode()
    assert "Traceback" not in response.content.decode()


@pytest.mark.django_db
def test_database_unavailable_gives_a_json_503_on_the_api(client, monkeypatch):
    from django.db.backends import utils

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(utils.CursorWrapper, "execute", down)
    for url in ("/api/v1/hosts/demo/iax.conf", "/api/v1/hosts"):
        response = client.get(url, headers={"Authorization": "Bearer iaxu_0123456789ab_x"})
        assert response.status_code == 503, url
        assert response.json()["error"] == "database-unavailable"


@pytest.mark.django_db
@pytest.mark.parametrize("failing_write", [1, 2], ids=["while-writing-keys", "while-writing-iax.conf"])
def test_a_full_disk_during_export_leaves_the_old_files_intact(
    tmp_path, monkeypatch, make_key, failing_write
):
    import errno

    from peers import exporter, services
    from peers.models import Host
    from tests.conftest import section

    make_key("signing")
    host = Host.objects.create(name="pbx9")
    services.save_endpoint(
        host, section("up", "type=peer\nhost=192.0.2.1\nauth=rsa\noutkey=signing"), actor="test"
    )
    (tmp_path / "iax.conf").write_text("old config\n")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "old.pub").write_text("old key\n")
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == failing_write:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(exporter.os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left on device"):
        exporter.write_export(exporter.export_host(host), tmp_path)
    assert (tmp_path / "iax.conf").read_text() == "old config\n"
    assert sorted(os.listdir(tmp_path)) == ["iax.conf", "keys"]  # no temporary file left behind
    assert os.listdir(tmp_path / "keys") == ["old.pub"]
