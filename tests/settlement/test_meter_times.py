"""Meter-data messages show times as people here read them: JST with the slot, never UTC."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import translation

from aggregator.platform.errors import Conflict, InvalidInput
from market import calendar
from settlement.services.meter import meter_report
from settlement.services.settle import interval_settle
from tests.conftest import actor_of, key_client
from tests.settlement.conftest import allocations, deadline, run_at

pytestmark = pytest.mark.django_db


def _item(m, k):
    a = next(a for a in allocations(k) if a.site.code == "alpha-tky-1")
    return {"kind": "compute", "interval_start": calendar.iso_z(k), "site": "alpha-tky-1",
            "workload": f"wl-{a.workload_id}", "cu": str(a.cu)}  # fmt: skip


def test_too_early_names_the_interval_end_in_jst(cleared):
    k = cleared.k(0)  # 2030-04-01 12:00 JST (03:00 UTC); it ends 12:30 JST
    with pytest.raises(InvalidInput) as caught:
        meter_report(actor=actor_of(cleared.alice), item=_item(cleared, k),
                     now=k + timedelta(minutes=10))  # fmt: skip
    (message,) = caught.value.errors["interval_start"]
    assert message == "The interval has not ended yet; report after 2030-04-01 12:30 JST."
    assert "Z" not in message and "03:30" not in message


def test_after_the_deadline_names_it_in_jst(cleared):
    k = cleared.k(0)
    with pytest.raises(InvalidInput) as caught:
        meter_report(actor=actor_of(cleared.alice), item=_item(cleared, k),
                     now=deadline(k) + timedelta(days=40))  # fmt: skip
    (message,) = caught.value.errors["interval_start"]
    jst = calendar.jst_text(deadline(k))
    assert jst.endswith(" JST") and jst in message


def test_an_interval_not_cleared_is_named_in_jst_with_its_slot(cleared):
    k = cleared.k(0) + timedelta(days=2)  # nothing cleared then
    with pytest.raises(InvalidInput) as caught:
        meter_report(actor=actor_of(cleared.alice), item={**_item(cleared, cleared.k(0)),
                     "interval_start": calendar.iso_z(k)}, now=k + timedelta(hours=1))  # fmt: skip
    (message,) = caught.value.errors["interval_start"]
    assert message == "No cleared interval starts at 2030-04-03 12:00 JST (slot 25)."


def test_settling_early_names_the_deadline_in_jst(cleared):
    k = cleared.k(0)
    with pytest.raises(Conflict) as caught:
        interval_settle(run=run_at(k), now=k)
    assert calendar.jst_text(deadline(k)) in caught.value.detail


def test_the_api_answers_in_the_requests_language(cleared):
    """The same error through the API, in Japanese and in English, both in JST."""
    k = cleared.k(0)
    client, _key = key_client(cleared.alice)
    with mock.patch("django.utils.timezone.now", return_value=k + timedelta(minutes=10)):
        ja = client.post("/api/v1/meter-readings", _item(cleared, k), format="json",
                         HTTP_ACCEPT_LANGUAGE="ja")  # fmt: skip
        en = client.post("/api/v1/meter-readings", _item(cleared, k), format="json",
                         HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert ja.status_code == en.status_code == 400
    assert ja.json()["errors"]["interval_start"] == [
        "コマはまだ終了していません。2030-04-01 12:30 JST 以降に報告してください。"
    ]
    assert en.json()["errors"]["interval_start"] == [
        "The interval has not ended yet; report after 2030-04-01 12:30 JST."
    ]
    with translation.override("ja"):
        assert calendar.slot_label(k) == "コマ 25"
