"""Webhook targets: IPv6 forms that carry a private IPv4 address are refused when an
endpoint is registered and again when a push connects (issue 14)."""

from __future__ import annotations

import pytest
from django.utils import translation

from operators.addresses import address_problem
from operators.models import WebhookEndpoint
from operators.validators import webhook_url_problem
from operators.webhooks import post_json
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# (host, the IPv4 address it leads to): loopback, cloud metadata, RFC 1918, shared space.
EMBEDDING_PRIVATE = [
    ("::127.0.0.1", "IPv4-compatible"),  # issue 14
    ("::a9fe:a9fe", "IPv4-compatible"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:169.254.169.254", "IPv4-mapped"),
    ("::ffff:0:a00:1", "IPv4-translated"),  # 10.0.0.1
    ("64:ff9b::7f00:1", "NAT64"),  # issue 14
    ("64:ff9b::a9fe:a9fe", "NAT64"),  # issue 14
    ("64:ff9b::c0a8:105", "NAT64"),  # 192.168.1.5
    ("64:ff9b::6440:1", "NAT64"),  # 100.64.0.1, carrier-grade NAT
    ("64:ff9b:1::a9fe:a9fe", "local-use NAT64"),
    ("64:ff9b:1:808:8:800::", "local-use NAT64"),  # whatever it embeds
    ("2002:7f00:1::", "6to4"),  # issue 14
    ("2002:a9fe:a9fe::", "6to4"),  # issue 14
    ("2002:ac10:1::1", "6to4"),  # 172.16.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo"),  # client 127.0.0.1
    ("2001:0:a9fe:a9fe::1", "Teredo"),  # server 169.254.169.254
]
PUBLIC = ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("host", "form"), EMBEDDING_PRIVATE)
def test_an_embedded_private_ipv4_is_named(host, form):
    problem = address_problem(host)
    assert problem is not None and (form in problem or "private" in problem), problem


@pytest.mark.parametrize(("host", "form"), EMBEDDING_PRIVATE)
def test_registration_refuses_ipv6_forms_embedding_a_private_ipv4(host, form):
    with translation.override("en"):
        problem = webhook_url_problem(f"https://[{host}]/hook", allow_private=False)
    assert problem == "The host resolves to a private or reserved address, which is not allowed."


@pytest.mark.parametrize(("host", "form"), EMBEDDING_PRIVATE)
def test_delivery_refuses_them_too_before_connecting(host, form):
    # E.g. an endpoint registered while private targets were allowed, or a name that
    # resolves differently now: the address connected to is checked again.
    result = post_json(f"https://[{host}]/hook", b"{}", {}, timeout_s=2)
    assert result.status_code is None and result.error.startswith("refused:"), result.error
    assert "private" in result.error or "embeds" in result.error or "NAT64" in result.error


@pytest.mark.parametrize("host", PUBLIC)
def test_public_addresses_in_the_same_forms_are_accepted(host):
    assert address_problem(host) is None
    assert webhook_url_problem(f"https://[{host}]/hook", allow_private=False) is None


def test_the_api_refuses_a_nat64_metadata_target(alice, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = client_for(alice).post(
        "/api/v1/webhook-endpoints/", {"url": "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/"}
    )
    assert response.status_code == 400 and "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


def test_a_port_out_of_range_is_an_invalid_url():
    with translation.override("en"):
        problem = webhook_url_problem("https://8.8.8.8:99999/hook", allow_private=False)
    assert problem == "Not a valid URL."
    assert post_json("https://8.8.8.8:99999/hook", b"{}", {}).error.startswith("refused")
