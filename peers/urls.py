from django.urls import path

from . import urls_history, views

app_name = "peers"

urlpatterns = [
    path("", views.host_list, name="host-list"),
    path("hosts/<slug:name>/", views.host_detail, name="host-detail"),
    path("hosts/<slug:name>/iax.conf", views.host_export, name="host-export"),
    path("hosts/<slug:name>/findings/", views.host_findings, name="host-findings"),
    path("hosts/<slug:name>/endpoints/", views.endpoint_list, name="endpoint-list"),
    path("hosts/<slug:name>/endpoints/new/<str:kind>/", views.endpoint_create, name="endpoint-create"),
    path("hosts/<slug:name>/endpoints/check/<str:kind>/", views.endpoint_validate, name="endpoint-validate"),
    path("hosts/<slug:name>/endpoints/preview/<str:kind>/", views.endpoint_preview, name="endpoint-preview"),
    path("hosts/<slug:name>/endpoints/<int:pk>/", views.endpoint_edit, name="endpoint-edit"),
    path("hosts/<slug:name>/endpoints/<int:pk>/clone/", views.endpoint_clone, name="endpoint-clone"),
    path("hosts/<slug:name>/endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("hosts/<slug:name>/endpoints/<int:pk>/reveal/", views.endpoint_reveal, name="endpoint-reveal"),
    path("hosts/<slug:name>/tokens/", views.host_tokens, name="host-tokens"),
    path("hosts/<slug:name>/tokens/<int:pk>/revoke/", views.host_token_revoke, name="host-token-revoke"),
    path("hosts/<slug:name>/general/", views.general_edit, name="general-edit"),
    path("hosts/<slug:name>/general/check/", views.general_validate, name="general-validate"),
    path("hosts/<slug:name>/general/preview/", views.general_preview, name="general-preview"),
    path("hosts/<slug:name>/registrations/", views.registration_list, name="registration-list"),
    path("hosts/<slug:name>/registrations/<int:pk>/", views.registration_edit, name="registration-edit"),
    path(
        "hosts/<slug:name>/registrations/<int:pk>/delete/",
        views.registration_delete,
        name="registration-delete",
    ),
    path("hosts/<slug:name>/callnumberlimits/", views.limit_list, name="limit-list"),
    path("hosts/<slug:name>/callnumberlimits/<int:pk>/", views.limit_edit, name="limit-edit"),
    path("hosts/<slug:name>/callnumberlimits/<int:pk>/delete/", views.limit_delete, name="limit-delete"),
    path("check/<str:form_name>/", views.row_validate, name="row-validate"),
    path("keys/", views.key_list, name="key-list"),
    path("keys/generate/", views.key_generate, name="key-generate"),
    path("keys/upload/", views.key_upload, name="key-upload"),
    path("keys/<str:key_name>/public/", views.key_download, name="key-download"),
    path("keys/<str:key_name>/delete/", views.key_delete, name="key-delete"),
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import-confirm"),
]

# The history, revision and publish pages (peers/views_history.py) live in their own module.
urlpatterns += urls_history.urlpatterns
