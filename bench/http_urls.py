"""The app's URLs plus /bench/trivial: a Django view that does nothing (bench/export_http.py)."""

from django.http import HttpResponse
from django.urls import path

from iaxadmin.urls import urlpatterns as app_urlpatterns


def trivial(request):
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("bench/trivial", trivial), *app_urlpatterns]
