"""Repeated failed logins lock the username out from that address (django-axes), audited;
the market operator unlocks. Failed API keys are throttled per address."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.test import Client, override_settings

from aggregator.platform.models import AuditEvent
from tests.conftest import PASSWORD, key_client

pytestmark = pytest.mark.django_db

LIMIT = 5


def _login(password: str, address: str = "203.0.113.7") -> int:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR=address)
    response = client.post("/login/", {"username": "alice", "password": password})
    return response.status_code, response.content.decode()


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=LIMIT)
def test_the_right_password_after_too_many_wrong_ones_is_refused_until_unlocked(alice):
    codes = [_login("wrong-password")[0] for _ in range(LIMIT - 1)]
    assert codes == [200] * (LIMIT - 1)  # the form again, with its error
    status, page = _login("wrong-password")
    assert status == 429 and "Login locked" in page  # the fifth failure locks
    status, page = _login(PASSWORD)
    assert status == 429 and "Login locked" in page  # ... and now even the right one
    assert _login(PASSWORD, address="198.51.100.9")[0] == 302  # only that pair is locked
    # Audited: the locking failure, and each attempt refused while locked.
    events = AuditEvent.objects.filter(code="operators.login.locked_out").order_by("seq")
    assert events.count() == 2
    assert events[0].payload == {"username": "alice", "ip_address": "203.0.113.7"}
    # The operator unlocks (the admin's access-attempt delete, or this reset).
    assert AccessAttempt.objects.filter(username="alice").exists()
    reset(username="alice")
    assert _login(PASSWORD)[0] == 302


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=LIMIT)
def test_a_success_before_the_limit_clears_the_count(alice):
    for _ in range(LIMIT - 1):
        _login("wrong-password")
    assert _login(PASSWORD)[0] == 302
    assert [_login("wrong-password")[0] for _ in range(LIMIT - 1)] == [200] * (LIMIT - 1)


@override_settings(API_FAILED_KEYS_PER_MINUTE=3)
def test_failed_api_keys_are_throttled_per_address(alice):
    _client, good = key_client(alice)
    bad = Client(REMOTE_ADDR="203.0.113.8")
    codes = [
        bad.get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Api-Key wb_{i:08x}.nope").status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
    response = bad.get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Api-Key {good}")
    assert response.status_code == 429 and int(response["Retry-After"]) <= 60
    other = Client(REMOTE_ADDR="198.51.100.10")
    assert other.get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Api-Key {good}").status_code == 200
