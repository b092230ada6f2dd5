"""Settings for bench/export_http.py only: the app's settings, a temporary SQLite file, plain HTTP on
loopback, and a urlconf that adds a trivial view (bench/http_urls.py) to compare against."""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # a new one every run: no fixed key
# a throw-away database: a fixed bench-only key (32 bytes, urlsafe base64) is good enough
os.environ.setdefault("IAXADMIN_ENCRYPTION_KEY", "YmVuY2gtb25seS1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=")

from iaxadmin.settings import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
SECURE_SSL_REDIRECT = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["IAXADMIN_BENCH_DB"],
        "CONN_MAX_AGE": int(os.environ.get("IAXADMIN_BENCH_CONN_MAX_AGE", "600")),
    }
}
ROOT_URLCONF = "bench.http_urls"
