"""Backup and restore as README.md says: pg_dump of the database, the encryption key kept apart,
pg_restore into an empty database (a new machine), and the same key. The host then exports the
same bytes as before (iax.conf with its secrets decrypted, and the key files), and so does its
published revision. With another key nothing decrypts, which is why the key is backed up too.

Skipped, saying why, without PostgreSQL or pg_dump/pg_restore.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .servers import generate_key, manage, production_env, scratch_database

SECRET = "Vq8-mU2x!rT4pz"  # a secret of the demo host (peers/demo.py)


def tools_or_skip() -> dict[str, str]:
    found = {name: shutil.which(name) for name in ("pg_dump", "pg_restore")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not found (apt-get install -y postgresql-client)")
    return found


def libpq(url: str) -> str:
    """The database URL as libpq (pg_dump, pg_restore) takes it."""
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def test_a_dump_restored_into_an_empty_database_exports_the_same_bytes(tmp_path):
    tools = tools_or_skip()
    dump = tmp_path / "iaxadmin.dump"
    with scratch_database("backup") as source:
        env = production_env(source, tmp_path / "static")
        manage(env, "migrate", "--noinput")
        manage(env, "createcachetable")
        manage(env, "iax_demo")
        manage(env, "iax_publish", "--host", "demo", "-m", "before the backup", "--quiet")
        manage(env, "iax_export", "--host", "demo", "--out", str(tmp_path / "before"))
        manage(env, "iax_export", "--host", "demo", "--revision", "1", "--out", str(tmp_path / "before-r1"))
        subprocess.run(
            [tools["pg_dump"], "--format=custom", "--no-owner", "--no-acl", f"--file={dump}", libpq(source)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    # the source database is gone; the dump alone holds no secret in clear
    sql = subprocess.run([tools["pg_restore"], "--file=-", str(dump)], check=True, capture_output=True).stdout
    assert b"CREATE TABLE public.peers_endpoint" in sql and SECRET.encode() not in sql

    with scratch_database("restore") as target:
        subprocess.run(
            [
                tools["pg_restore"],
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                f"--dbname={libpq(target)}",
                str(dump),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        restored = {**env, "DATABASE_URL": target}  # same encryption key, new database
        manage(restored, "migrate", "--check")  # nothing left to apply
        manage(restored, "iax_export", "--host", "demo", "--out", str(tmp_path / "after"))
        manage(
            restored, "iax_export", "--host", "demo", "--revision", "1", "--out", str(tmp_path / "after-r1")
        )
        assert files(tmp_path / "after") == files(tmp_path / "before")
        assert files(tmp_path / "after-r1") == files(tmp_path / "before-r1")
        assert f"secret={SECRET}\n" in (tmp_path / "after" / "iax.conf").read_text()
        assert any(name.endswith(".key") for name in files(tmp_path / "after"))  # private keys decrypted too

        wrong = manage(
            {**restored, "IAXADMIN_ENCRYPTION_KEY": generate_key()},
            "iax_export",
            "--host",
            "demo",
            "--out",
            str(tmp_path / "wrong"),
            check=False,
        )
        assert wrong.returncode != 0
        assert "which is not in IAXADMIN_ENCRYPTION_KEY" in wrong.stderr
        assert not (tmp_path / "wrong" / "iax.conf").exists()
