"""Settings for iaxadmin. Everything that differs between machines comes from the environment:

DATABASE_URL  postgres://user:pass@host:5432/name (PostgreSQL via psycopg 3); unset means SQLite
SECRET_KEY    required unless DEBUG is on; with DEBUG on and none set, .local/secret.key (made by
              `make run`, one per checkout) is used, else a random key for this process. There is
              no fixed key anywhere: a signed value of one checkout is worthless in another
DEBUG         yes/no, default no
ALLOWED_HOSTS comma-separated, default localhost names when DEBUG is on
IAXADMIN_ENCRYPTION_KEY
              required unless DEBUG is on: comma-separated urlsafe-base64 32-byte keys encrypting
              secrets, private keys and revisions at rest (the first encrypts, all decrypt; see
              SECURITY.md). With DEBUG on and none set, .local/encryption.key is used if present
STATIC_ROOT   where collectstatic writes and WhiteNoise serves from (default .local/staticfiles)
LOG_FORMAT    text (default) or json; LOG_LEVEL (WARNING); LOG_STREAM stdout (manage.py: stderr);
              LOG_REQUESTS / LOG_CHANGES yes (one line per request / audited change)
IAXADMIN_METRICS_TOKEN, IAXADMIN_METRICS_ALLOW
              who may read /metrics: a bearer token and/or addresses or networks (neither: nobody)
Each may also be given as NAME_FILE (path to a file holding the value).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from .env import env, env_bool, env_list, parse_database_url
from .logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# What production needs and has no default for. Missing ones do not stop management commands
# that need neither (check, makemigrations, migrate); iaxadmin/startup.py refuses to serve
# without them (wsgi.py, asgi.py, runserver) and `check --deploy` reports them as errors.
MISSING_PRODUCTION_SETTINGS: list[str] = []

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        _local_secret = BASE_DIR / ".local" / "secret.key"  # written by `make run`
        if _local_secret.is_file():
            SECRET_KEY = _local_secret.read_text(encoding="utf-8").strip()
        else:  # sessions then last as long as this process
            SECRET_KEY = secrets.token_urlsafe(50)
    else:
        MISSING_PRODUCTION_SETTINGS.append(
            "SECRET_KEY must be set when DEBUG is off (no production default)."
        )
        SECRET_KEY = secrets.token_urlsafe(50)  # unpredictable and never served: see startup.py

IAXADMIN_ENCRYPTION_KEY = (env("IAXADMIN_ENCRYPTION_KEY") or "").strip()
if not IAXADMIN_ENCRYPTION_KEY:
    if not DEBUG:
        MISSING_PRODUCTION_SETTINGS.append(
            "IAXADMIN_ENCRYPTION_KEY must be set when DEBUG is off (no production default): it encrypts "
            "the secrets and private keys in the database. Generate one with "
            "python -c 'from peers.security.crypto import generate_key; print(generate_key())'"
        )
    _local_key = BASE_DIR / ".local" / "encryption.key"  # written by `make run`
    if _local_key.is_file():
        IAXADMIN_ENCRYPTION_KEY = _local_key.read_text(encoding="utf-8").strip()
if IAXADMIN_ENCRYPTION_KEY:
    from peers.security.crypto import parse_keys

    parse_keys(IAXADMIN_ENCRYPTION_KEY)  # a malformed key stops the start (the message names the variable)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "peers",
]

MIDDLEWARE = [
    "iaxadmin.health.HealthMiddleware",  # /healthz, /readyz: before host checks and the HTTPS redirect
    "iaxadmin.logs.RequestLogMiddleware",  # one log line per request
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # the static files, compressed, cached for good
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "iaxadmin.middleware.DatabaseUnavailableMiddleware",
    "iaxadmin.middleware.MethodNotAllowedPageMiddleware",  # a 405 is a page, not an empty body
]

ROOT_URLCONF = "iaxadmin.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "iaxadmin.wsgi.application"

_database_url = env("DATABASE_URL")
if _database_url:
    DATABASES = {"default": parse_database_url(_database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
if env("CONN_MAX_AGE"):  # seconds a connection is kept open between requests (0 closes each time)
    DATABASES["default"]["CONN_MAX_AGE"] = int(env("CONN_MAX_AGE"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / ".local" / "staticfiles")
# collectstatic writes hashed, compressed copies and a manifest; with DEBUG off the templates need
# that manifest (run collectstatic on every deploy), with DEBUG on the plain names are used
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # findings counts per host for /metrics (peers/metrics.py), in the database: the app keeps no
    # state outside it. The table is made by `manage.py createcachetable` (make serve runs it).
    "metrics": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "iaxadmin_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}
IAXADMIN_METRICS_TOKEN = env("IAXADMIN_METRICS_TOKEN") or ""
IAXADMIN_METRICS_ALLOW = env_list("IAXADMIN_METRICS_ALLOW", "")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "peers:host-list"
LOGOUT_REDIRECT_URL = "login"

# Production hardening (python manage.py check --deploy is clean with DEBUG off and a SECRET_KEY).
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=yes so Django trusts X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else int(env("SECURE_HSTS_SECONDS", "31536000") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # iax.conf uploads; larger requests get a clear 400
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = logging_config(
    env("LOG_FORMAT", "text"),
    env("LOG_LEVEL", "WARNING"),
    stream=env("LOG_STREAM", "stdout"),
    requests=env_bool("LOG_REQUESTS", True),
    changes=env_bool("LOG_CHANGES", True),
)
