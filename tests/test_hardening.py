from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings():
    unset = {
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # the browser tests set the last one
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        SECRET_KEY="x" * 60 + "-production-like-secret-key", DEBUG="no", ALLOWED_HOSTS="iax.example.net"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
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
