"""Refuse to serve requests in production mode without the settings that have no default.

Settings only record what is missing (``MISSING_PRODUCTION_SETTINGS``) so that management commands
that need none of it (``check``, ``makemigrations``, ``migrate``) still run; anything that serves
(``wsgi.py``, ``asgi.py``, and ``runserver`` through ``WSGI_APPLICATION``) calls ``refuse_if_unset``
first, and ``manage.py check --deploy`` reports the same messages as errors.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


def missing() -> list[str]:
    from django.conf import settings

    return list(getattr(settings, "MISSING_PRODUCTION_SETTINGS", []))


def refuse_if_unset() -> None:
    problems = missing()
    if problems:
        raise ImproperlyConfigured(" ".join(problems))


@register(Tags.security, deploy=True)
def check_production_settings(app_configs=None, **kwargs) -> list[Error]:
    return [Error(message, id=f"iaxadmin.E00{n}") for n, message in enumerate(missing(), start=1)]
