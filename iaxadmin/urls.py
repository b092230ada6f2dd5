from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from peers.metrics import metrics_view
from peers.views import ThrottledLoginView

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),  # rate limited (peers.models_security)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("peers.api_urls")),
    path("metrics", metrics_view, name="metrics"),  # Prometheus; token and/or allow-list (peers/metrics.py)
    path("", include("peers.urls")),
]
