"""The report's interventions are named in the reader's language; the code stays in JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import translation

from settlement.reports.types import INTERVENTION_LABELS, Intervention
from tests.conftest import client_for
from tests.support.pdf import pdf_text

K = datetime(2030, 4, 1, 3, 0, tzinfo=UTC)


def test_each_kind_has_a_label_in_both_languages():
    row = Intervention(K, "redispatch", "site_outage alpha-tky-1: 1 change(s) in 12 ms", None)
    with translation.override("ja"):
        assert row.kind_label == "再給電指令"
        assert all(str(label) != code for code, label in INTERVENTION_LABELS.items())
    with translation.override("en"):
        assert row.kind_label == "Re-dispatch"
    assert row.kind == "redispatch"  # what JSON and CSV carry
    assert Intervention(K, "something_new", "", None).kind_label == "something_new"


def test_the_pdf_lists_a_days_runs_by_slot_and_jst_time(cleared_market):
    response = client_for(cleared_market.rita).get(
        "/api/v1/reports/market", {"day": "2030-04-01", "format": "pdf", "lang": "ja"}
    )
    assert response.status_code == 200
    text = pdf_text(response.content, layout=True)
    # The market's first interval starts 12:00 JST: slot 25 (and never "interval 0").
    assert "25 · 12:00" in text and "26 · 12:30" in text
