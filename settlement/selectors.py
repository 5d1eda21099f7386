"""Reads of settlement: meter readings, statement postings and delivery compliance, scoped."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput, NotFound
from aggregator.platform.instants import MAX_YEAR, MIN_YEAR
from market.calendar import JST, as_utc
from market.models.clearing import Allocation, EnergyAward
from operators.actors import Actor
from operators.models import Organisation
from settlement.choices import ReadingKind
from settlement.models import MeterReading
from settlement.models.ledger import Posting
from settlement.money import HALF_HOUR

MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str | None) -> tuple[date, date]:
    """'YYYY-MM' → (first day, first day of the next month). Months are JST months."""
    match = MONTH_RE.match(text or "")
    if not match:
        raise InvalidInput.from_errors({"month": [_("Give the month as YYYY-MM.")]})
    year, month = int(match.group(1)), int(match.group(2))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput.from_errors(
            {
                "month": [
                    _("Give a month between %(lo)d-01 and %(hi)d-12.")
                    % {"lo": MIN_YEAR, "hi": MAX_YEAR}
                ]
            }
        )
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return first, following


def month_bounds(text: str) -> tuple[datetime, datetime]:
    """UTC instants of JST midnight on the month's first day and the next month's."""
    first, following = parse_month(text)
    return (
        as_utc(datetime.combine(first, time(0), tzinfo=JST)),
        as_utc(datetime.combine(following, time(0), tzinfo=JST)),
    )


def statement_organisations(*, actor: Actor, slug: str | None = None) -> list[Organisation]:
    """Whose statements the actor may read: its own; a regulator any (or the one named)."""
    if not actor.is_regulator:
        if slug and slug != actor.organisation.slug:
            # Another organisation's statement does not exist as far as you can tell.
            raise NotFound(_("No statement for that organisation."))
        return [actor.organisation]
    qs = Organisation.objects.all()
    if slug:
        qs = qs.filter(slug=slug)
        if not qs.exists():
            raise NotFound(_("No statement for that organisation."))
    return list(qs)


def organisation_postings(*, organisation_id: int, start: datetime, end: datetime) -> QuerySet:
    return (
        Posting.objects.filter(
            organisation_id=organisation_id, interval_start__gte=start, interval_start__lt=end
        )
        .select_related("entry", "account")
        .order_by("interval_start", "entry_id", "id")
    )


def ledger_totals(*, organisation_id: int, start: datetime, end: datetime) -> dict[str, int]:
    """The organisation's ledger sums in a period, per account kind (+ debit, − credit)."""
    return {
        row["account__kind"]: int(row["s"])
        for row in Posting.objects.filter(
            organisation_id=organisation_id, interval_start__gte=start, interval_start__lt=end
        )
        .values("account__kind")
        .annotate(s=Sum("amount_jpy"))
    }


def meter_reading_list(*, actor: Actor) -> QuerySet[MeterReading]:
    qs = MeterReading.objects.select_related("site", "organisation")
    if actor.is_regulator:
        return qs
    return qs.filter(organisation=actor.organisation)


def _latest(start: datetime, end: datetime) -> dict[tuple[datetime, str], MeterReading]:
    latest: dict[tuple[datetime, str], MeterReading] = {}
    for r in MeterReading.objects.filter(interval_start__gte=start, interval_start__lt=end).only(
        "interval_start", "subject", "revision", "cu", "kwh", "kind", "site_id"
    ):
        key = (r.interval_start, r.subject)
        if key not in latest or r.revision > latest[key].revision:
            latest[key] = r
    return latest


def delivery_compliance(*, start: datetime, end: datetime) -> dict:
    """Ordered vs delivered in [start, end): CU-h and kWh, shortfalls, missing data, per area.

    Ordered = current firm rows (what current orders say); delivered = the current meter
    reading. A shortfall is a metered quantity below the ordered one (beyond 1e-6).
    """
    latest = _latest(start, end)
    zero = Decimal(0)

    def bucket() -> dict:
        return {
            "ordered_cu_h": zero,
            "delivered_cu_h": zero,
            "compute_lines": 0,
            "compute_metered": 0,
            "compute_shortfalls": 0,
            "ordered_supply_kwh": zero,
            "delivered_supply_kwh": zero,
            "supply_lines": 0,
            "supply_metered": 0,
            "supply_shortfalls": 0,
        }

    areas: dict[str, dict] = defaultdict(bucket)
    tiny = Decimal("0.000001")
    for k, site_id, wl, area, cu in Allocation.objects.filter(
        interval_start__gte=start, interval_start__lt=end, is_current=True
    ).values_list("interval_start", "site_id", "workload_id", "site__area_id", "cu"):
        b = areas[area]
        b["compute_lines"] += 1
        b["ordered_cu_h"] += cu * HALF_HOUR
        reading = latest.get((k, f"compute:{site_id}:{wl}"))
        if reading is not None:
            b["compute_metered"] += 1
            b["delivered_cu_h"] += reading.cu * HALF_HOUR
            b["compute_shortfalls"] += reading.cu < cu - tiny
    for k, offer, area, kwh in EnergyAward.objects.filter(
        interval_start__gte=start, interval_start__lt=end, is_current=True
    ).values_list("interval_start", "offer_id", "offer__area_id", "kwh"):
        b = areas[area]
        b["supply_lines"] += 1
        b["ordered_supply_kwh"] += kwh
        reading = latest.get((k, f"supply:{offer}"))
        if reading is not None:
            b["supply_metered"] += 1
            b["delivered_supply_kwh"] += reading.kwh
            b["supply_shortfalls"] += reading.kwh < kwh - tiny
    site_kwh = sum(
        (r.kwh for r in latest.values() if r.kind == ReadingKind.SITE_ENERGY), start=zero
    )
    total = bucket()
    for b in areas.values():
        for key, value in b.items():
            total[key] += value
    return {
        **total,
        "compute_missing": total["compute_lines"] - total["compute_metered"],
        "supply_missing": total["supply_lines"] - total["supply_metered"],
        "reported_site_kwh": site_kwh,
        "areas": {area: dict(b) for area, b in sorted(areas.items())},
    }
