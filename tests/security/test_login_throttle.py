"""Login rate limiting: 5 failures per username and address within 15 minutes and the login form
refuses (429, the time to wait, the password not even checked); a success clears the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from peers.models import LoginAttempt
from peers.security.throttle import MAX_FAILURES, WINDOW, record, wait_seconds

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def ann(django_user_model):
    return django_user_model.objects.create_user("ann", password=PASSWORD)


def _login(client, username="ann", password="wrong", address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_sixth_attempt_is_refused_with_429_and_the_time_to_wait(client, ann):
    for _ in range(MAX_FAILURES):
        response = _login(client)
        assert response.status_code == 200  # the usual "wrong password" form
    assert LoginAttempt.objects.filter(username="ann", succeeded=False).count() == MAX_FAILURES
    sixth = _login(client, password=PASSWORD)  # even the right password
    assert sixth.status_code == 429
    text = sixth.content.decode()
    assert "Too many failed logins" in text and "Try again in 15 minutes" in text
    assert 880 <= int(sixth["Retry-After"]) <= 900
    assert "_auth_user_id" not in client.session
    assert LoginAttempt.objects.count() == MAX_FAILURES  # refusals are not recorded


def test_the_limit_is_per_username_and_address(client, ann, django_user_model):
    django_user_model.objects.create_user("bob", password=PASSWORD)
    for _ in range(MAX_FAILURES):
        _login(client)
    assert _login(client).status_code == 429
    assert _login(client, username="ANN ").status_code == 429  # same name, other spelling
    assert _login(client, address="10.0.0.2", password=PASSWORD).status_code == 302
    client.logout()
    assert _login(client, username="bob", password=PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, ann):
    for _ in range(MAX_FAILURES - 1):
        _login(client)
    assert _login(client, password=PASSWORD).status_code == 302
    client.logout()
    for _ in range(MAX_FAILURES - 1):
        assert _login(client).status_code == 200
    assert _login(client, password=PASSWORD).status_code == 302  # 8 failures, never 5 in a row


def test_the_wait_ends_when_the_oldest_failure_leaves_the_window(client, ann):
    for _ in range(MAX_FAILURES):
        _login(client)
    assert _login(client, password=PASSWORD).status_code == 429
    LoginAttempt.objects.update(at=timezone.now() - WINDOW - timedelta(seconds=1))
    assert _login(client, password=PASSWORD).status_code == 302


def test_wait_seconds_counts_from_the_oldest_of_the_five(db):
    now = timezone.now()
    for minutes in (14, 10, 5, 3, 1):
        LoginAttempt.objects.create(username="x", address="a", at=now - timedelta(minutes=minutes))
    assert wait_seconds("x", "a", now=now) == 60
    assert wait_seconds("x", "b", now=now) == 0
    assert wait_seconds("y", "a", now=now) == 0


def test_old_rows_are_pruned(db):
    LoginAttempt.objects.create(username="x", address="a", at=timezone.now() - timedelta(days=31))
    record("y", "a", succeeded=False)
    assert list(LoginAttempt.objects.values_list("username", flat=True)) == ["y"]


def test_login_page_still_works(client, ann):
    assert client.get(reverse("login")).status_code == 200
    response = _login(client, password=PASSWORD)
    assert response.status_code == 302
    assert LoginAttempt.objects.get().succeeded
