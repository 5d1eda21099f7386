"""Intervals as people count them: JEPX slots 1–48 from JST midnight, never 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import translation

from market import calendar

MIDNIGHT_JST = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 2026-12-04 00:00 JST


@pytest.mark.parametrize(
    ("minutes", "slot"), [(0, 1), (29, 1), (30, 2), (12 * 60 + 30, 26), (23 * 60 + 30, 48)]
)
def test_slots_run_from_1_to_48(minutes, slot):
    assert calendar.slot_of(MIDNIGHT_JST + timedelta(minutes=minutes))[1] == slot


def test_labels_in_both_languages_and_times_in_jst():
    k = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)  # 13:00 JST
    with translation.override("ja"):
        assert calendar.slot_label(k) == "コマ 27"
        assert calendar.interval_text(k) == "2026-12-04 13:00 JST (コマ 27)"
    with translation.override("en"):
        assert calendar.slot_label(k) == "slot 27"
    assert calendar.jst_text(k, seconds=True) == "2026-12-04 13:00:00 JST"


def test_template_filters_show_the_slot_and_stored_documents_in_jst():
    template = Template(
        "{% load market_time %}{{ k|slot }}|{{ k|slot_label }}|{{ none|slot_label }}|"
        "{{ data|jst_content }}"
    )
    data = {"start": "2026-12-04T04:00:00Z", "intervals": 2, "cu": [8, 8.5]}
    with translation.override("ja"):
        text = template.render(Context({"k": MIDNIGHT_JST, "none": None, "data": data}))
    assert text == ("1|コマ 1||start: 2026-12-04 13:00 JST (コマ 27); intervals: 2; cu: 8, 8.5")


def test_roles_are_shown_by_their_translated_label():
    template = Template(
        "{% load wattbit_format %}{% for r in roles %}{{ r|role_label }},{% endfor %}"
    )
    roles = ["compute_provider", "market_operator", "trader", "unknown_code"]
    with translation.override("ja"):
        assert (
            template.render(Context({"roles": roles}))
            == "計算資源提供者,市場運営者,トレーダー,unknown_code,"
        )
    with translation.override("en"):
        assert template.render(Context({"roles": roles})) == (
            "Compute provider,Market operator,Trader,unknown_code,"
        )
