from django.urls import path

from . import views

app_name = "peers"

urlpatterns = [
    path("", views.host_list, name="host-list"),
    path("hosts/<slug:name>/", views.host_detail, name="host-detail"),
    path("hosts/<slug:name>/iax.conf", views.host_export, name="host-export"),
]
