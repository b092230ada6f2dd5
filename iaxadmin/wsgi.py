"""WSGI entry point (gunicorn iaxadmin.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iaxadmin.settings")
application = get_wsgi_application()
