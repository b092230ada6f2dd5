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


def host_page(route: str, view, name: str):
    """A page of one host: its URL starts with ``hosts/<name>/``."""
    return path(f"hosts/<slug:name>/{route}", view, name=name)


urlpatterns = [
    path("", hosts.host_list, name="host-list"),
    path("new-host/", host_admin.host_create, name="host-create"),
    host_page("", hosts.host_detail, "host-detail"),
    host_page("edit/", host_admin.host_edit, "host-edit"),
    host_page("delete/", host_admin.host_delete, "host-delete"),
    host_page("iax.conf", hosts.host_export, "host-export"),
    host_page("findings/", hosts.host_findings, "host-findings"),
    host_page("findings/summary/", hosts.host_findings_summary, "host-findings-summary"),
    host_page("conf/", hosts.host_conf, "host-conf"),
    host_page("fixes/", fixes.host_fixes, "host-fixes"),
    host_page("fixes/summary/", fixes.host_fix_summary, "host-fix-summary"),
    host_page("endpoints/", endpoints.endpoint_list, "endpoint-list"),
    host_page("endpoints/new/<str:kind>/", endpoints.endpoint_create, "endpoint-create"),
    host_page("endpoints/check/<str:kind>/", endpoints.endpoint_validate, "endpoint-validate"),
    host_page("endpoints/preview/<str:kind>/", endpoints.endpoint_preview, "endpoint-preview"),
    host_page("endpoints/<int:pk>/", endpoints.endpoint_edit, "endpoint-edit"),
    host_page("endpoints/<int:pk>/clone/", endpoints.endpoint_clone, "endpoint-clone"),
    host_page("endpoints/<int:pk>/delete/", endpoints.endpoint_delete, "endpoint-delete"),
    host_page("endpoints/<int:pk>/reveal/", endpoints.endpoint_reveal, "endpoint-reveal"),
    host_page("tokens/", tokens.host_tokens, "host-tokens"),
    host_page("tokens/<int:pk>/revoke/", tokens.host_token_revoke, "host-token-revoke"),
    host_page("general/", general.general_edit, "general-edit"),
    host_page("general/check/", general.general_validate, "general-validate"),
    host_page("general/preview/", general.general_preview, "general-preview"),
    host_page("registrations/", rows.registration_list, "registration-list"),
    host_page("trunks/new/", trunks.trunk_create, "trunk-create"),
    host_page("trunks/new/managed/", trunks.trunk_pair_create, "trunk-pair-create"),
    host_page("registrations/<int:pk>/", rows.registration_edit, "registration-edit"),
    host_page("registrations/<int:pk>/delete/", rows.registration_delete, "registration-delete"),
    host_page("callnumberlimits/", rows.limit_list, "limit-list"),
    host_page("callnumberlimits/<int:pk>/", rows.limit_edit, "limit-edit"),
    host_page("callnumberlimits/<int:pk>/delete/", rows.limit_delete, "limit-delete"),
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
    host_page("history/", history.host_history, "host-history"),
    host_page("revisions/", history.revision_list, "revision-list"),
    host_page("revisions/diff/", history.revision_diff, "revision-diff"),
    host_page("publish/", history.host_publish, "host-publish"),
    host_page("revert/", history.host_revert, "host-revert"),
    path("changes/<int:pk>/", history.change_detail, name="change-detail"),
    path("changes/<int:pk>/revert/", history.change_revert, name="change-revert"),
    path("audit/export", history.audit_export, name="audit-export"),
    host_page("simulate/", simulate.simulate_call, "simulate-call"),
    host_page("simulate/registration/", simulate.simulate_registration, "simulate-registration"),
    host_page("dialplan/", simulate.dialplan, "dialplan"),
]
