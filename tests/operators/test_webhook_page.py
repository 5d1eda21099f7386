"""The portal's webhook page says which targets this exchange accepts."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _page(membership) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=membership.user.username, password=PASSWORD)
    response = client.get("/webhooks/")
    assert response.status_code == 200
    return response.content.decode()


def test_in_debug_the_page_says_private_targets_are_accepted(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    page = _page(alice)
    assert "private or loopback addresses are accepted" in page
    assert "pushed to these HTTPS endpoints" not in page


def test_in_production_the_page_says_https_endpoints(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    page = _page(alice)
    assert "pushed to these HTTPS endpoints" in page
    assert "private or loopback" not in page
