"""/api/v1/: the export Asterisk hosts pull (plain views, host tokens) and the JSON API (django-ninja,
user tokens)."""

from django.urls import path

from . import agent
from .resources import api, docs

urlpatterns = [
    path("hosts/<slug:name>/iax.conf", agent.host_conf, name="api-host-conf"),
    path("hosts/<slug:name>/bundle.tar.gz", agent.host_bundle, name="api-host-bundle"),
    path("hosts/<slug:name>/deployments", agent.host_deployments, name="api-host-deployments"),
    path("docs", docs, name="api-docs"),
    path("", api.urls),
]
