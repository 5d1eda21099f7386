"""Settlement parameters: changed on the portal by the market operator, validated, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aggregator.platform.errors import Forbidden, InvalidInput
from aggregator.platform.models import AuditEvent
from settlement.models import SettlementParameters
from settlement.services.parameters import settlement_parameters_update
from tests.conftest import _member, _org, actor_of, portal_client

pytestmark = pytest.mark.django_db

URL = "/settlement/parameters/"


@pytest.fixture
def oscar(db):
    return _member(_org("ops", ["market_operator"]), "oscar", "admin")


def _form(**changes) -> dict:
    params = SettlementParameters.current()
    data = {
        name: str(getattr(params, name))
        for name in (
            "market_fee_jpy_per_cu_h",
            "deviation_multiplier",
            "metering_deadline_hours",
            "late_metering_days",
            "metering_tolerance_pct",
            "consumption_tax_rate",
        )
    }
    return {**data, **changes}


def test_operator_changes_a_parameter_and_it_is_audited(oscar):
    response = portal_client(oscar).post(URL, _form(market_fee_jpy_per_cu_h="3.5"))
    assert response.status_code == 302
    assert SettlementParameters.current().market_fee_jpy_per_cu_h == Decimal("3.5")
    event = AuditEvent.objects.filter(code="settlement.parameters.changed").get()
    assert event.actor_label == "user:oscar"
    assert event.payload == {
        "old": {"market_fee_jpy_per_cu_h": "2.0000"},
        "new": {"market_fee_jpy_per_cu_h": "3.5000"},
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deviation_multiplier", "0.5"),
        ("consumption_tax_rate", "2"),
        ("metering_deadline_hours", "999"),
    ],
)
def test_out_of_bounds_values_write_nothing(oscar, field, value):
    before = SettlementParameters.current()
    response = portal_client(oscar).post(URL, _form(**{field: value}))
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert getattr(SettlementParameters.current(), field) == getattr(before, field)
    assert not AuditEvent.objects.filter(code="settlement.parameters.changed").exists()


def test_the_service_refuses_bad_numbers_and_other_organisations(oscar, alice):
    for bad in ("NaN", "Infinity", "abc", "1e400"):
        with pytest.raises(InvalidInput):
            settlement_parameters_update(actor=actor_of(oscar), consumption_tax_rate=bad)
    with pytest.raises(InvalidInput):
        settlement_parameters_update(actor=actor_of(oscar), late_metering_days="1.5")
    with pytest.raises(InvalidInput):
        settlement_parameters_update(actor=actor_of(oscar), reserve_jpy=1)
    with pytest.raises(Forbidden):
        settlement_parameters_update(actor=actor_of(alice), market_fee_jpy_per_cu_h=0)
    assert not AuditEvent.objects.filter(code="settlement.parameters.changed").exists()


def test_regulator_reads_but_cannot_change_and_participants_cannot_open(rita, alice):
    client = portal_client(rita)
    page = client.get(URL)
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert client.post(URL, _form(market_fee_jpy_per_cu_h="9")).status_code == 403
    assert portal_client(alice).get(URL).status_code == 403
    assert SettlementParameters.current().market_fee_jpy_per_cu_h == Decimal("2")
