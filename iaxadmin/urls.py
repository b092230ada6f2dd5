from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from peers.metrics import metrics_view
from peers.views.auth import ThrottledLoginView

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),  # rate limited (peers.security.throttle)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # the admin's login is the same rate-limited view (before admin.site.urls, which would match it)
    path("admin/login/", ThrottledLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("peers.api.urls")),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; token and/or allow-list (peers/metrics.py)
    path("", include("peers.urls")),
]
