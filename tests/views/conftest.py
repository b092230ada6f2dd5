import pytest

from peers.demo import seed_demo
from peers.security.roles import set_role


@pytest.fixture
def ann(client, django_user_model):
    """A logged-in admin: every page and action (tests/security/test_roles.py covers the roles)."""
    user = django_user_model.objects.create_user("ann", password="pw-for-tests-only")
    set_role(user, "admin")
    client.force_login(user)
    return client


@pytest.fixture
def editor(client, django_user_model):
    """A logged-in editor: edits configuration, cannot publish or manage hosts and users."""
    user = django_user_model.objects.create_user("ed", password="pw-for-tests-only")
    set_role(user, "editor")
    client.force_login(user)
    return client


@pytest.fixture
def demo(db):
    return seed_demo()
