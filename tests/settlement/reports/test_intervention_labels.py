"""The report's interventions are named in the reader's language; the code stays in JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import translation

from settlement.reports.types import INTERVENTION_LABELS, Intervention

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
