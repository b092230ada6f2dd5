from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from iaxadmin.env import parse_database_url

ROOT = Path(__file__).resolve().parents[2]


def test_postgres_url_becomes_a_psycopg_database():
    db = parse_database_url("postgres://iax:p%40ss@db.example.net:5433/iaxadmin?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "iaxadmin",
        "iax",
        "p@ss",
        "db.example.net",
        "5433",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_sqlite_url_paths():
    assert parse_database_url("sqlite:////var/lib/iax.db")["NAME"] == "/var/lib/iax.db"
    assert parse_database_url("sqlite:///local.db")["NAME"] == "local.db"


def test_unknown_scheme_is_refused_with_the_url_in_the_message():
    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        parse_database_url("mysql://x@y/z")


def _settings_in_subprocess(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update(env)
    code = "import iaxadmin.wsgi; print('ok')"  # what gunicorn does: load the WSGI application
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = _settings_in_subprocess({"DEBUG": "no"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    result = _settings_in_subprocess({"DEBUG": "yes"})
    assert result.returncode == 0, result.stderr


def _secret_key(env: dict) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG"}}
    clean.update(env, DJANGO_SETTINGS_MODULE="iaxadmin.settings")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_development_has_no_fixed_secret_key(tmp_path):
    """Without SECRET_KEY, DEBUG uses the checkout's own .local/secret.key (made by `make run`) or,
    without one, a random key per process: never a string anybody else knows."""
    key = _secret_key({"DEBUG": "yes"})
    assert len(key) >= 50 and "insecure" not in key
    local = ROOT / ".local" / "secret.key"
    if not local.exists():  # a fresh clone: each process its own key
        assert _secret_key({"DEBUG": "yes"}) != key
    secret_file = tmp_path / "secret"
    secret_file.write_text("k" * 20 + "-from-a-file\n")
    assert _secret_key({"DEBUG": "yes", "SECRET_KEY_FILE": str(secret_file)}) == "k" * 20 + "-from-a-file"


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    unset = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {
        k: v for k, v in os.environ.items() if k not in unset and not k.startswith("IAXADMIN_ENCRYPTION_KEY")
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_maintenance_commands_run_without_the_production_secrets():
    # check and makemigrations need neither key, so they work on a bare machine (CI hooks, builds)
    assert _manage("check", env={}).returncode == 0
    result = _manage("makemigrations", "--check", "--dry-run", env={})
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_names_each_missing_production_setting():
    result = _manage("check", "--deploy", env={"ALLOWED_HOSTS": "iax.example.net"})
    assert result.returncode != 0
    assert "iaxadmin.E001" in result.stderr and "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "iaxadmin.E002" in result.stderr and "IAXADMIN_ENCRYPTION_KEY must be set" in result.stderr


def test_a_command_with_a_bad_encryption_key_says_so_in_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IAXADMIN_", "DJANGO_"))}
    env.update(IAXADMIN_ENCRYPTION_KEY="not-a-key", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    done = subprocess.run(
        [sys.executable, str(root / "manage.py"), "iax_validate", "--host", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "manage.py: IAXADMIN_ENCRYPTION_KEY: key 1 is not the urlsafe-base64 encoding of 32 bytes "
        "(generate one with: python -c 'from peers.security.crypto import generate_key; print(generate_key())')"
    ]
