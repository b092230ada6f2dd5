"""Small helpers that read settings from the environment (no third-party dependency)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

TRUE_WORDS = {"1", "true", "yes", "on", "y", "t"}


def env(name: str, default: str | None = None) -> str | None:
    """Return $NAME, or the contents of the file named by $NAME_FILE, or default."""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    return default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in TRUE_WORDS


def env_list(name: str, default: str = "") -> list[str]:
    value = env(name, default) or ""
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(url: str) -> dict:
    """Turn postgres://user:pass@host:port/name?opt=v or sqlite:///path into a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc:  # sqlite://relative/path is not a valid form
            raise ValueError(f"DATABASE_URL {url!r}: use sqlite:///relative or sqlite:////absolute")
        name = path[1:] if path.startswith("/") else path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name or ":memory:"}
    raise ValueError(f"DATABASE_URL {url!r}: unsupported scheme {scheme!r} (use postgres:// or sqlite:///)")
