from django.contrib import admin

from .models import CallNumberLimit, Endpoint, Host, Key, Registration


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "updated_at"]
    search_fields = ["name"]


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "host", "kind", "is_template", "peer_host", "context"]
    list_filter = ["host", "kind", "is_template"]
    search_fields = ["name", "peer_host", "context", "username"]
    exclude = ["secret"]  # secrets are never shown in lists or forms of the admin


@admin.register(Key)
class KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "bits", "fingerprint", "private_encrypted"]
    exclude = ["private_pem"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["host", "username", "remote_host", "remote_port"]
    exclude = ["secret"]


@admin.register(CallNumberLimit)
class CallNumberLimitAdmin(admin.ModelAdmin):
    list_display = ["host", "network", "limit"]
