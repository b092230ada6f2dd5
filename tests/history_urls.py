"""Root URLconf for the history tests: the project's, with the history pages in the "peers"
namespace whether or not peers/urls.py includes them yet."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from peers import urls as peers_urls
from peers import urls_history

_names = {p.name for p in peers_urls.urlpatterns}
_patterns = list(peers_urls.urlpatterns) + [p for p in urls_history.urlpatterns if p.name not in _names]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((_patterns, "peers"))),
]
