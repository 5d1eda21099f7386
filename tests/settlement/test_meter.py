"""Meter data: validation writes nothing, bulk is all-or-nothing, CSV names rows, revisions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest

from aggregator.platform.errors import Forbidden, InvalidInput
from market import calendar
from settlement.models import MeterReading
from settlement.services.meter import meter_report, meter_report_bulk, meter_report_csv
from settlement.services.settle import current_readings, interval_settle
from tests.conftest import actor_of, client_for, key_client
from tests.settlement.conftest import allocations, awards, deadline, ended, run_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


def _alpha_item(m, **over):
    k = m.k(0)
    a = next(a for a in allocations(k) if a.site.code == "alpha-tky-1")
    item = {
        "kind": "compute",
        "interval_start": calendar.iso_z(k),
        "site": "alpha-tky-1",
        "workload": f"wl-{a.workload_id}",
        "cu": str(a.cu),
    }
    return {**item, **over}, a


def _errors(exc) -> dict:
    return exc.value.errors


def test_a_reading_is_written_with_an_audit_event(cleared):
    item, a = _alpha_item(cleared)
    reading = meter_report(actor=actor_of(cleared.alice), item=item, now=ended(cleared.k(0)))
    assert reading.revision == 1 and reading.cu == a.cu and not reading.late
    from aggregator.platform.models import AuditEvent

    assert AuditEvent.objects.filter(code="settlement.meter.reported").count() == 1


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"site": "nowhere"}, "site", "Unknown site"),
        ({"site": "beta-kyu-1"}, "site", "Unknown site"),  # charlie's site, not alice's
        ({"workload": "wl-999"}, "workload", "No current order"),
        ({"cu": "-1"}, "cu", "negative"),
        ({"cu": "abc"}, "cu", "number"),
        ({"cu": "1000"}, "cu", "tolerance"),
        ({"kind": "steam"}, "kind", "Choose one of"),
        ({"interval_start": "2030-04-01T03:10:00Z"}, "interval_start", ":00 or :30"),
        ({"interval_start": "2031-01-01T00:00:00Z"}, "interval_start", "No cleared interval"),
    ],
)
def test_invalid_readings_are_refused_and_nothing_is_written(cleared, over, field, words):
    item, _a = _alpha_item(cleared, **over)
    with pytest.raises(InvalidInput) as exc:
        meter_report(actor=actor_of(cleared.alice), item=item, now=ended(cleared.k(0)))
    assert words in " ".join(_errors(exc)[field])
    assert not MeterReading.objects.exists()


def test_within_tolerance_is_taken_beyond_is_not(cleared):
    item, a = _alpha_item(cleared)
    within = a.cu * Decimal("1.02")
    meter_report(
        actor=actor_of(cleared.alice), item={**item, "cu": str(within)}, now=ended(cleared.k(0))
    )
    with pytest.raises(InvalidInput):
        meter_report(
            actor=actor_of(cleared.alice),
            item={**item, "cu": str(within + Decimal("0.001"))},
            now=ended(cleared.k(0)),
        )


def test_timing_before_the_end_and_after_the_deadline(cleared):
    k = cleared.k(0)
    item, _a = _alpha_item(cleared)
    for when, words in (
        (k + timedelta(minutes=10), "not ended"),
        (deadline(k) + timedelta(seconds=1), "deadline"),
    ):
        with pytest.raises(InvalidInput) as exc:
            meter_report(actor=actor_of(cleared.alice), item=item, now=when)
        assert words in " ".join(_errors(exc)["interval_start"])
    assert not MeterReading.objects.exists()


def test_a_correction_is_a_new_revision_and_the_latest_counts(cleared):
    k = cleared.k(0)
    item, a = _alpha_item(cleared)
    first = meter_report(actor=actor_of(cleared.alice), item=item, now=ended(k))
    second = meter_report(
        actor=actor_of(cleared.alice), item={**item, "cu": "1"}, now=ended(k) + timedelta(minutes=5)
    )
    assert (first.revision, second.revision) == (1, 2)
    first.refresh_from_db()
    assert first.cu == a.cu  # the first revision is kept as it was
    assert current_readings(k)[second.subject] == Decimal(1)


def test_after_provisional_settlement_only_missing_data_is_taken(cleared):
    k = cleared.k(0)
    item, _a = _alpha_item(cleared)
    meter_report(actor=actor_of(cleared.alice), item=item, now=ended(k))
    interval_settle(run=run_at(k), now=deadline(k))  # charlie and sue reported nothing
    late = deadline(k) + timedelta(hours=1)
    with pytest.raises(InvalidInput):  # a correction of alice's settled reading: too late
        meter_report(actor=actor_of(cleared.alice), item={**item, "cu": "1"}, now=late)
    beta = next(a for a in allocations(k) if a.site.code == "beta-kyu-1")
    reading = meter_report(
        actor=actor_of(cleared.charlie),
        item={**item, "site": "beta-kyu-1", "workload": f"wl-{beta.workload_id}", "cu": "3"},
        now=late,
    )
    assert reading.late


def test_bulk_is_all_or_nothing_with_errors_per_index(cleared):
    item, _a = _alpha_item(cleared)
    items = [item, {**item, "site": "nowhere"}, {**item, "cu": "-2"}]
    with pytest.raises(InvalidInput) as exc:
        meter_report_bulk(actor=actor_of(cleared.alice), items=items, now=ended(cleared.k(0)))
    errors = _errors(exc)["readings"]
    assert [e["index"] for e in errors] == [1, 2]
    assert "site" in errors[0]["errors"] and "cu" in errors[1]["errors"]
    assert not MeterReading.objects.exists()


def test_duplicate_in_one_upload_is_refused(cleared):
    item, _a = _alpha_item(cleared)
    with pytest.raises(InvalidInput) as exc:
        meter_report_bulk(
            actor=actor_of(cleared.alice), items=[item, item], now=ended(cleared.k(0))
        )
    assert _errors(exc)["readings"][0]["index"] == 1


def test_csv_upload_names_rows(cleared):
    k = cleared.k(0)
    item, a = _alpha_item(cleared)
    header = "kind,interval_start,site,workload,offer,cu,kwh\n"
    good = f"compute,{item['interval_start']},alpha-tky-1,{item['workload']},,{a.cu},\n"
    bad = f"compute,{item['interval_start']},alpha-tky-1,{item['workload']},,-1,\n"
    with pytest.raises(InvalidInput) as exc:
        meter_report_csv(actor=actor_of(cleared.alice), content=header + good + bad, now=ended(k))
    assert [e["row"] for e in _errors(exc)["readings"]] == [3]
    assert not MeterReading.objects.exists()
    site_kwh = a.cu * a.site.kw_per_cu * a.site.pue / 2
    energy = f"site_energy,{item['interval_start']},alpha-tky-1,,,,{site_kwh}\n"
    rows = meter_report_csv(
        actor=actor_of(cleared.alice), content=(header + good + energy).encode(), now=ended(k)
    )
    assert [r.kind for r in rows] == ["compute", "site_energy"]


def test_suppliers_report_their_offers_only(cleared):
    k = cleared.k(0)
    e = awards(k)[0]
    item = {
        "kind": "supply",
        "interval_start": calendar.iso_z(k),
        "offer": f"en-{e.offer_id}",
        "kwh": str(e.kwh),
    }
    with pytest.raises(InvalidInput):  # alice is no supplier
        meter_report(actor=actor_of(cleared.alice), item=item, now=ended(k))
    assert meter_report(actor=actor_of(cleared.sue), item=item, now=ended(k)).kwh == e.kwh


def test_regulators_and_viewers_cannot_write(cleared, bob):
    item, _a = _alpha_item(cleared)
    for member in (cleared.rita, bob):
        with pytest.raises(Forbidden):
            meter_report(actor=actor_of(member), item=item, now=ended(cleared.k(0)))
    assert not MeterReading.objects.exists()


def test_rest_single_bulk_csv_and_regulator_refused(cleared):
    # The API reads the wall clock; set it to just after the interval (the clock only).
    with mock.patch("django.utils.timezone.now", return_value=ended(cleared.k(0))):
        _rest_calls(cleared)


def _rest_calls(cleared):
    item, a = _alpha_item(cleared)
    client = client_for(cleared.alice)
    response = client.post("/api/v1/meter-readings", item, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["revision"] == 1
    response = client.post(
        "/api/v1/meter-readings/bulk",
        {"readings": [item, {**item, "cu": "-1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["readings"][0]["index"] == 1
    csv_body = f"kind,interval_start,site,workload,cu\ncompute,{item['interval_start']},alpha-tky-1,{item['workload']},{a.cu}\n"
    response = client.generic(
        "POST", "/api/v1/meter-readings/csv", csv_body, content_type="text/csv"
    )
    assert response.status_code == 201, response.content
    assert MeterReading.objects.count() == 2
    # Regulators never write, by session or key; they may read everyone's readings.
    regulator, _key = key_client(cleared.rita, scopes=("read", "trade", "admin"))
    for path in (
        "/api/v1/meter-readings",
        "/api/v1/meter-readings/bulk",
        "/api/v1/meter-readings/csv",
    ):
        assert regulator.post(path, {"readings": [item]}, format="json").status_code == 403
    assert regulator.get("/api/v1/meter-readings").json()["results"]
    # charlie sees none of alice's readings.
    assert client_for(cleared.charlie).get("/api/v1/meter-readings").json()["results"] == []
    assert MeterReading.objects.count() == 2


def test_a_reading_of_another_organisations_offer_reveals_nothing_of_its_order(cleared):
    k = cleared.k(0)
    e = awards(k)[0]  # sue's energy offer
    item = {
        "kind": "supply",
        "interval_start": calendar.iso_z(k),
        "offer": f"en-{e.offer_id}",
        "kwh": str(e.kwh * 1000),
    }
    with pytest.raises(InvalidInput) as refused:
        meter_report(actor=actor_of(cleared.alice), item=item, now=ended(k))
    # Refused for the role and the offer, never measured against sue's ordered kWh (the
    # tolerance message would print it).
    assert set(_errors(refused)) == {"kind", "offer"}
    assert str(e.kwh.normalize()) not in str(_errors(refused))
