"""Market fixtures: a power supplier, the market operator's staff, and bid payloads in the future."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from market import calendar
from operators.choices import MemberRole
from tests.conftest import _member, _org


@pytest.fixture
def gamma(db):
    return _org("gamma", ["power_supplier"])


@pytest.fixture
def sue(gamma):
    return _member(gamma, "sue", MemberRole.TRADER)


@pytest.fixture
def operator_org(db):
    return _org("ops", ["market_operator"])


@pytest.fixture
def oscar(operator_org):
    """Market-operator staff with full Django-admin rights."""
    membership = _member(operator_org, "oscar", MemberRole.ADMIN)
    membership.user.is_staff = True
    membership.user.is_superuser = True
    membership.user.save(update_fields=["is_staff", "is_superuser"])
    return membership


def open_start(hours_ahead: int = 3):
    """An interval start comfortably before its gate closure."""
    return calendar.first_open_interval(timezone.now(), 60) + timedelta(hours=hours_ahead)


def capacity_payload(site_code: str = "alpha-tky-1", n: int = 4, **extra) -> dict:
    return {
        "start": calendar.iso_z(open_start()),
        "intervals": n,
        "site": site_code,
        "cu": [32] * n,
        "price": [180] * n,
        **extra,
    }


def energy_payload(n: int = 4, **extra) -> dict:
    return {
        "start": calendar.iso_z(open_start()),
        "intervals": n,
        "area": "kyushu",
        "kwh": [2000] * n,
        "price": [0.01] * n,
        "carbon_g_per_kwh": 20,
        "curtailment_relief": True,
        **extra,
    }


def inference_payload(n: int = 4, **extra) -> dict:
    return {
        "start": calendar.iso_z(open_start()),
        "intervals": n,
        "kind": "inference",
        "accelerator": "h100",
        "residency_tags": ["jp"],
        "limit_price": 900,
        "zone": "tokyo",
        "max_latency_ms": 20,
        "demand": [16] * n,
        **extra,
    }


def batch_payload(n: int = 8, **extra) -> dict:
    return {
        "start": calendar.iso_z(open_start()),
        "intervals": n,
        "kind": "batch",
        "accelerator": "h100",
        "limit_price": 400,
        "remaining_cu_intervals": 100,
        "max_cu": 32,
        "gang": 8,
        "migration_cost": 5,
        "allowed_areas": ["tokyo", "kyushu"],
        **extra,
    }
