"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iaxadmin.settings")
application = get_asgi_application()  # sets Django up

from .startup import refuse_if_unset  # noqa: E402

refuse_if_unset()  # no serving in production mode without SECRET_KEY and the encryption key
