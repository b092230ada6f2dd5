"""Root URLconf for the role and reveal tests: the project's, with the "reveal secret" action in
the "peers" namespace whether or not peers/urls.py routes it yet."""

from django.urls import URLResolver, include, path

from iaxadmin import urls as root
from peers import urls as peers_urls
from peers import views

EXTRA = [
    path("hosts/<slug:name>/endpoints/<int:pk>/reveal/", views.endpoint_reveal, name="endpoint-reveal"),
]

_names = {p.name for p in peers_urls.urlpatterns}
PEERS_PATTERNS = list(peers_urls.urlpatterns) + [p for p in EXTRA if p.name not in _names]

urlpatterns = [p for p in root.urlpatterns if not (isinstance(p, URLResolver) and p.namespace == "peers")] + [
    path("", include((PEERS_PATTERNS, "peers")))
]
