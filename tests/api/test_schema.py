"""A bounded schemathesis run over /api/v1/openapi.json against the WSGI app: no 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from peers import services
from peers.models import Host
from peers.security.roles import set_role

HOSTS = ["localhost", "testserver"]
with override_settings(ALLOWED_HOSTS=HOSTS):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def token(django_user_model, settings):
    settings.ALLOWED_HOSTS = HOSTS
    # Calls go straight into the WSGI app, whose request signals would close the test's database
    # connection (and with it its transaction) on PostgreSQL; Django's test Client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    Host.objects.create(name="pbx1")
    user = django_user_model.objects.create_user("fuzz")
    set_role(user, "admin")
    _, token = services.create_user_token(user, "fuzz", actor="test")
    yield token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_never_answers_5xx(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])
