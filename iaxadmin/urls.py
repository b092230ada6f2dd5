from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from peers.views.auth import ThrottledLoginView

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),  # rate limited (peers.models)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("peers.api.urls")),
    path("", include("peers.urls")),
]
