"""CSV export of meter data (`settlement:meter-csv`, beside the upload page).

The upload page lists no readings, so its export is the month's readings one has reported
(every revision; a regulator's, everyone's), read through settlement.selectors.
meter_reading_list. The first seven columns are the upload's own (services/meter.py
CSV_COLUMNS), named as the upload names them, so a corrected file can go back through the
upload; the rest say which revision it is and when it arrived.
"""

from __future__ import annotations

from django.utils import timezone

from aggregator.platform.csv_export import csv_response
from aggregator.platform.portal import portal_view
from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, format_public_id
from market import calendar
from settlement import selectors
from settlement.services.meter import CSV_COLUMNS

EXTRA_COLUMNS = ("revision", "late", "recorded_at", "recorded_by", "organisation")


def meter_month(text: str) -> str:
    """`?month=YYYY-MM` (checked: a bad month is a 400 page), else this JST month."""
    if not text:
        return f"{calendar.to_jst(timezone.now()):%Y-%m}"
    selectors.parse_month(text)
    return text


@portal_view
def meter_csv(request):
    """One JST month of one's meter readings, every revision, oldest interval first."""
    month = meter_month(request.GET.get("month", "").strip())
    start, end = selectors.month_bounds(month)
    readings = (
        selectors.meter_reading_list(actor=request.actor)
        .filter(interval_start__gte=start, interval_start__lt=end)
        .order_by("interval_start", "subject", "revision")
    )
    rows = (
        [
            r.kind,
            r.interval_start,
            r.site.code if r.site else "",
            format_public_id(WORKLOAD, r.workload_id) if r.workload_id else "",
            format_public_id(ENERGY_OFFER, r.offer_id) if r.offer_id else "",
            r.cu,
            r.kwh,
            r.revision,
            r.late,
            r.created_at,
            r.actor_label,
            r.organisation.slug,
        ]
        for r in readings.iterator(chunk_size=2000)
    )
    return csv_response(
        filename=f"wattbit-meter-{month}.csv", header=[*CSV_COLUMNS, *EXTRA_COLUMNS], rows=rows
    )
