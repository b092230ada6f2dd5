"""URLs of the history pages, added to ``peers.urls`` (namespace "peers") with
``urlpatterns += urls_history.urlpatterns``."""

from django.urls import path

from . import views_history

urlpatterns = [
    path("hosts/<slug:name>/history/", views_history.host_history, name="host-history"),
    path("hosts/<slug:name>/revisions/", views_history.revision_list, name="revision-list"),
    path("hosts/<slug:name>/revisions/diff/", views_history.revision_diff, name="revision-diff"),
    path("hosts/<slug:name>/publish/", views_history.host_publish, name="host-publish"),
    path("hosts/<slug:name>/revert/", views_history.host_revert, name="host-revert"),
    path("changes/<int:pk>/", views_history.change_detail, name="change-detail"),
    path("changes/<int:pk>/revert/", views_history.change_revert, name="change-revert"),
    path("audit/export", views_history.audit_export, name="audit-export"),
]
