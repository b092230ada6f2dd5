"""/api/v1/: the host export (plain views, host tokens) and the JSON API (django-ninja, user tokens)."""

from django.urls import path

from . import api_export
from .api import api, docs

urlpatterns = [
    path("hosts/<slug:name>/iax.conf", api_export.host_conf, name="api-host-conf"),
    path("hosts/<slug:name>/bundle.tar.gz", api_export.host_bundle, name="api-host-bundle"),
    path("hosts/<slug:name>/deployments", api_export.host_deployments, name="api-host-deployments"),
    path("docs", docs, name="api-docs"),
    path("", api.urls),
]
