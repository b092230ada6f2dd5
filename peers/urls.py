"""Every URL of the browser UI (namespace "peers"); the API's are in ``peers/api/urls.py``."""

from django.urls import path

from .views import (
    endpoints,
    fixes,
    general,
    history,
    host_admin,
    hosts,
    imports,
    keys,
    rows,
    simulate,
    tokens,
    trunks,
)

app_name = "peers"

urlpatterns = [
    path("", hosts.host_list, name="host-list"),
    path("new-host/", host_admin.host_create, name="host-create"),
    path("hosts/<slug:name>/", hosts.host_detail, name="host-detail"),
    path("hosts/<slug:name>/edit/", host_admin.host_edit, name="host-edit"),
    path("hosts/<slug:name>/delete/", host_admin.host_delete, name="host-delete"),
    path("hosts/<slug:name>/iax.conf", hosts.host_export, name="host-export"),
    path("hosts/<slug:name>/findings/", hosts.host_findings, name="host-findings"),
    path("hosts/<slug:name>/findings/summary/", hosts.host_findings_summary, name="host-findings-summary"),
    path("hosts/<slug:name>/conf/", hosts.host_conf, name="host-conf"),
    path("hosts/<slug:name>/fixes/", fixes.host_fixes, name="host-fixes"),
    path("hosts/<slug:name>/fixes/summary/", fixes.host_fix_summary, name="host-fix-summary"),
    path("hosts/<slug:name>/endpoints/", endpoints.endpoint_list, name="endpoint-list"),
    path("hosts/<slug:name>/endpoints/new/<str:kind>/", endpoints.endpoint_create, name="endpoint-create"),
    path(
        "hosts/<slug:name>/endpoints/check/<str:kind>/", endpoints.endpoint_validate, name="endpoint-validate"
    ),
    path(
        "hosts/<slug:name>/endpoints/preview/<str:kind>/", endpoints.endpoint_preview, name="endpoint-preview"
    ),
    path("hosts/<slug:name>/endpoints/<int:pk>/", endpoints.endpoint_edit, name="endpoint-edit"),
    path("hosts/<slug:name>/endpoints/<int:pk>/clone/", endpoints.endpoint_clone, name="endpoint-clone"),
    path("hosts/<slug:name>/endpoints/<int:pk>/delete/", endpoints.endpoint_delete, name="endpoint-delete"),
    path("hosts/<slug:name>/endpoints/<int:pk>/reveal/", endpoints.endpoint_reveal, name="endpoint-reveal"),
    path("hosts/<slug:name>/tokens/", tokens.host_tokens, name="host-tokens"),
    path("hosts/<slug:name>/tokens/<int:pk>/revoke/", tokens.host_token_revoke, name="host-token-revoke"),
    path("hosts/<slug:name>/general/", general.general_edit, name="general-edit"),
    path("hosts/<slug:name>/general/check/", general.general_validate, name="general-validate"),
    path("hosts/<slug:name>/general/preview/", general.general_preview, name="general-preview"),
    path("hosts/<slug:name>/registrations/", rows.registration_list, name="registration-list"),
    path("hosts/<slug:name>/trunks/new/", trunks.trunk_create, name="trunk-create"),
    path("hosts/<slug:name>/trunks/new/managed/", trunks.trunk_pair_create, name="trunk-pair-create"),
    path("hosts/<slug:name>/registrations/<int:pk>/", rows.registration_edit, name="registration-edit"),
    path(
        "hosts/<slug:name>/registrations/<int:pk>/delete/",
        rows.registration_delete,
        name="registration-delete",
    ),
    path("hosts/<slug:name>/callnumberlimits/", rows.limit_list, name="limit-list"),
    path("hosts/<slug:name>/callnumberlimits/<int:pk>/", rows.limit_edit, name="limit-edit"),
    path("hosts/<slug:name>/callnumberlimits/<int:pk>/delete/", rows.limit_delete, name="limit-delete"),
    path("check/<str:form_name>/", rows.row_validate, name="row-validate"),
    path("keys/", keys.key_list, name="key-list"),
    path("keys/generate/", keys.key_generate, name="key-generate"),
    path("keys/upload/", keys.key_upload, name="key-upload"),
    path("keys/<str:key_name>/public/", keys.key_download, name="key-download"),
    path("keys/<str:key_name>/delete/", keys.key_delete, name="key-delete"),
    path("import/", imports.import_upload, name="import"),
    path("import/confirm/", imports.import_confirm, name="import-confirm"),
    path("import/<uuid:pk>/", imports.import_report, name="import-report"),
    path("import/<uuid:pk>/run/", imports.import_run, name="import-run"),
    path("import/<uuid:pk>/status/", imports.import_status, name="import-status"),
    path("hosts/<slug:name>/history/", history.host_history, name="host-history"),
    path("hosts/<slug:name>/revisions/", history.revision_list, name="revision-list"),
    path("hosts/<slug:name>/revisions/diff/", history.revision_diff, name="revision-diff"),
    path("hosts/<slug:name>/publish/", history.host_publish, name="host-publish"),
    path("hosts/<slug:name>/revert/", history.host_revert, name="host-revert"),
    path("changes/<int:pk>/", history.change_detail, name="change-detail"),
    path("changes/<int:pk>/revert/", history.change_revert, name="change-revert"),
    path("audit/export", history.audit_export, name="audit-export"),
    path("hosts/<slug:name>/simulate/", simulate.simulate_call, name="simulate-call"),
    path(
        "hosts/<slug:name>/simulate/registration/",
        simulate.simulate_registration,
        name="simulate-registration",
    ),
    path("hosts/<slug:name>/dialplan/", simulate.dialplan, name="dialplan"),
]
