"""The Django admin: a read-only view of the configuration and its history, and the place to manage
user accounts.

Configuration objects (hosts, endpoints, keys, registrations, limits) are changed through the
app's pages, API and commands, which validate and record history; here they can only be looked at,
and never with a secret (secret, private-key, snapshot and token-hash fields are not shown). User
accounts are created, changed and deleted here through ``peers.services.access``, so each of those
writes records a history row (the role included) in its transaction.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction

from . import audit, services
from .models import (
    CallNumberLimit,
    Change,
    Deployment,
    Endpoint,
    Host,
    HostToken,
    Key,
    Registration,
    Revision,
    UserToken,
)
from .security import roles


class ReadOnlyAdmin(admin.ModelAdmin):
    """Look, never touch: every write of these models goes through the service layer."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Host)
class HostAdmin(ReadOnlyAdmin):
    list_display = ["name", "description", "updated_at"]
    search_fields = ["name"]


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    list_display = ["name", "host", "kind", "is_template", "peer_host", "context"]
    list_filter = ["host", "kind", "is_template"]
    search_fields = ["name", "peer_host", "context", "username"]
    exclude = ["secret", "extra_secrets"]


@admin.register(Key)
class KeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "bits", "fingerprint", "private_encrypted"]
    exclude = ["private_pem"]


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ["host", "username", "remote_host", "remote_port"]
    exclude = ["secret"]


@admin.register(CallNumberLimit)
class CallNumberLimitAdmin(ReadOnlyAdmin):
    list_display = ["host", "network", "limit"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "host_name"]
    list_filter = ["action", "object_type"]


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["host", "number", "author_name", "created_at", "sha256"]
    exclude = ["conf_text", "snapshot"]


@admin.register(HostToken, UserToken)
class TokenAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "name", "created_at", "last_used_at", "revoked_at"]
    exclude = ["hash"]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["host", "revision_number", "ok", "reported_at"]


# -------------------------------------------------------------------------------------------------
# Users: written through peers.services.access, their role a field of the form

ROLE_CHOICES = [("", "(no role)"), *((r, r) for r in roles.ROLES)]


class RoleMixin(forms.Form):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, required=False, help_text="What the user may do in iaxadmin."
    )


class UserChangeWithRole(RoleMixin, UserChangeForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["role"] = roles.assigned_role(self.instance) or ""


class UserCreationWithRole(RoleMixin, AdminUserCreationForm):
    pass


class AuditedUserAdmin(DjangoUserAdmin):
    form = UserChangeWithRole
    add_form = UserCreationWithRole
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_superuser"]
    list_filter = ["is_active", "is_superuser"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "is_staff", "role")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "role"),
            },
        ),
    )

    def save_model(self, request, obj, form, change) -> None:
        services.save_user(
            obj,
            role=form.cleaned_data.get("role") or None,
            actor=request.user,
            message=f"user {'changed' if change else 'created'} in the Django admin",
        )

    def save_related(self, request, form, formsets, change) -> None:
        """Groups and permissions are not edited here (the role is), so there is nothing to save."""

    def delete_model(self, request, obj) -> None:
        services.delete_user(obj, actor=request.user, message="user deleted in the Django admin")

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            services.delete_user(user, actor=request.user, message="user deleted in the Django admin")

    def user_change_password(self, request, id, form_url=""):
        """Django's password form, in one transaction with the history row ``log_change`` adds."""
        with transaction.atomic():
            user = get_user_model().objects.filter(pk=id).first()
            request._iaxadmin_user_before = audit.state(user) if user is not None else None
            return super().user_change_password(request, id, form_url)

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        before = getattr(request, "_iaxadmin_user_before", None)
        if before is not None:  # the password form: the save was Django's own; the history row is ours
            services.access.record_user_change(
                obj, before=before, actor=request.user, message="password changed in the Django admin"
            )
        return entry


admin.site.unregister(get_user_model())
admin.site.unregister(Group)  # roles are given with a user's "role" field (or manage.py iax_role)
admin.site.register(get_user_model(), AuditedUserAdmin)
