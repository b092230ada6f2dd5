"""Settings for the test suite: the normal settings with a throw-away SECRET_KEY and encryption key.

DATABASE_URL still decides the database, so `make test` runs against PostgreSQL in CI.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # a new one every run: no fixed key
# a fixed key (32 bytes, urlsafe base64) so tests and bench runs read each other's data
os.environ.setdefault("IAXADMIN_ENCRYPTION_KEY", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
SECURE_SSL_REDIRECT = False  # the test client and live server speak plain HTTP
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# no collectstatic before tests: plain names, and WhiteNoise serves them from the app folders
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
