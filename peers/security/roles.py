"""Roles of the web UI: viewer < editor < publisher < admin, each including the ones below it.

* viewer: reads every page; never sees a secret.
* editor: edits the configuration (endpoints, [general], registrations, limits, keys, imports) and
  may reveal a secret (an audited action); cannot publish.
* publisher: everything an editor does, plus publishing and reverting.
* admin: everything, plus users, tokens and hosts. A superuser is always an admin.

A role is membership of the Django auth Group of the same name ("viewer", "editor", "publisher",
"admin"); the groups are created on demand by ``ensure_groups`` (no migration). A user in several of
these groups has the highest of them; a user in none has no role and sees nothing.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import Group
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

ROLES = ("viewer", "editor", "publisher", "admin")
UNCHANGED = object()  # peers.services.access.save_user: leave the role as it is
RANK = {role: i for i, role in enumerate(ROLES)}
_CACHE = "_iaxadmin_role"


def ensure_groups() -> list[Group]:
    """The four role groups, created when missing."""
    return [Group.objects.get_or_create(name=role)[0] for role in ROLES]


def _check(role: str) -> str:
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def role_of(user) -> str | None:
    """The user's highest role, or None (anonymous, inactive, or in no role group)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return assigned_role(user)


def assigned_role(user) -> str | None:
    """The role the user has been given, whether or not the account is active."""
    if user.is_superuser:
        return "admin"
    cached = getattr(user, _CACHE, False)
    if cached is not False:
        return cached
    names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    role = max(names, key=RANK.__getitem__) if names else None
    setattr(user, _CACHE, role)
    return role


def has_role(user, role: str) -> bool:
    """True when the user's role is ``role`` or one above it."""
    _check(role)
    current = role_of(user)
    return current is not None and RANK[current] >= RANK[role]


def set_role(user, role: str | None) -> None:
    """Make ``role`` the user's only role group (None: no role). A superuser stays an admin.
    Only ``peers.services.access`` calls this (it records the change in the history)."""
    groups = ensure_groups()
    user.groups.remove(*groups)
    if role is not None:
        user.groups.add(next(g for g in groups if g.name == _check(role)))
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


class Can:
    """What the user may do, for templates: ``{% if request.can.edit %}``."""

    def __init__(self, user) -> None:
        self.user = user

    @property
    def role(self) -> str | None:
        return role_of(self.user)

    def _at_least(self, role: str) -> bool:
        return has_role(self.user, role)

    @property
    def view(self) -> bool:
        return self._at_least("viewer")

    @property
    def edit(self) -> bool:
        return self._at_least("editor")

    @property
    def publish(self) -> bool:
        return self._at_least("publisher")

    @property
    def admin(self) -> bool:
        return self._at_least("admin")


def forbidden(request, role: str):
    """The 403 page naming the role that is needed."""
    context = {"needed": role, "current": role_of(request.user), "roles": ROLES}
    return render(request, "peers/forbidden.html", context, status=403)


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def role_required(role: str, *, write: str | None = None):
    """View decorator: anonymous users are sent to the login page; a logged-in user without
    ``role`` (or one above it) gets a 403 page saying which role is needed. With ``write``, a
    request that is not GET/HEAD/OPTIONS needs that role instead (a list page with an "add" form)."""
    _check(role)
    if write is not None:
        _check(write)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            request.can = Can(request.user)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            needed = write if write is not None and request.method not in SAFE_METHODS else role
            if not has_role(request.user, needed):
                return forbidden(request, needed)
            return view(request, *args, **kwargs)

        wrapper.required_role = role
        wrapper.required_write_role = write or role
        return wrapper

    return decorator
