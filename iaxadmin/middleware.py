"""Answer 503 with a clear message, not a traceback, when the database cannot be reached."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("iaxadmin.availability")

MESSAGE = "The configuration database is unavailable right now; nothing was changed. Try again shortly."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Service unavailable · iaxadmin</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d2330}</style>
</head><body><h1>Service unavailable</h1><p>%s</p></body></html>
"""


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.error("database unavailable: %s", exception.__class__.__name__)
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": "database-unavailable", "message": MESSAGE}, status=503)
        else:
            response = HttpResponse(PAGE % MESSAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = "30"
        return response


class MethodNotAllowedPageMiddleware:
    """A GET (or any method) a page does not take is answered with a real 405 page saying what
    the URL is for, instead of Django's empty body (the API keeps its own answers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content or request.path.startswith("/api/"):
            return response
        from django.shortcuts import render

        allowed = response.get("Allow", "")
        page = render(request, "405.html", {"allowed": allowed, "method": request.method}, status=405)
        page["Allow"] = allowed
        return page
