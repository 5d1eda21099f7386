"""Meter readings: validation and writing, shared by REST (single, bulk) and CSV upload.

All or nothing: every item is checked first; errors come back per item (index or CSV row)
and per field, and nothing is written unless every item is valid. A reading never changes:
a correction is a new revision of the same subject (interval, site/offer, workload).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.errors import Conflict, Forbidden, InvalidInput
from aggregator.platform.numbers import to_decimal
from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, parse_public_id
from market import calendar
from market.models import EnergyOffer
from market.models.clearing import Allocation, ClearingRun, EnergyAward, RunStatus
from operators.actors import Actor
from operators.choices import OrganisationRole
from operators.models import Organisation, Site
from operators.services.common import record_change
from operators.site_energy import kwh_per_cu_hour
from settlement.choices import ReadingKind, SettlementAudit, Stage
from settlement.models import MeterReading, SettlementParameters, reading_subject
from settlement.models.ledger import IntervalSettlement
from settlement.money import HALF_HOUR
from settlement.services.settle import late_metering_end, metering_deadline

MAX_BULK = 10_000
CSV_COLUMNS = ("kind", "interval_start", "site", "workload", "offer", "cu", "kwh")


_quantity = to_decimal


@dataclass
class _Interval:
    """What a reading is checked against: the interval's current firm rows and its state."""

    start: datetime
    run: ClearingRun | None
    ordered_cu: dict[tuple[int, int], Decimal]  # (site, workload) → CU ordered
    ordered_site_kwh: dict[int, Decimal]
    ordered_supply_kwh: dict[int, Decimal]  # offer → kWh
    settled_state: str | None
    existing: dict[str, int]  # subject → latest revision


class _Context:
    def __init__(self, actor: Actor, now: datetime) -> None:
        self.actor = actor
        self.now = now
        self.params = SettlementParameters.current()
        org = actor.organisation
        self.sites = {s.code: s for s in Site.objects.filter(organisation=org)}
        self._offer_ids: set[int] | None = None
        self.intervals: dict[datetime, _Interval] = {}

    @property
    def offer_ids(self) -> set[int]:
        """The organisation's energy offers, loaded once per upload."""
        if self._offer_ids is None:
            self._offer_ids = set(
                EnergyOffer.objects.filter(organisation=self.actor.organisation).values_list(
                    "pk", flat=True
                )
            )
        return self._offer_ids

    def interval(self, start: datetime) -> _Interval:
        if start not in self.intervals:
            run = ClearingRun.objects.filter(
                interval_start=start, status=RunStatus.COMPLETED
            ).first()
            ordered_cu: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
            site_kwh: dict[int, Decimal] = defaultdict(Decimal)
            supply: dict[int, Decimal] = defaultdict(Decimal)
            if run is not None:
                for site_id, wl, cu, kw, pue in Allocation.objects.filter(
                    run=run, interval_start=start, is_current=True
                ).values_list("site_id", "workload_id", "cu", "site__kw_per_cu", "site__pue"):
                    ordered_cu[(site_id, wl)] += cu
                    site_kwh[site_id] += cu * kwh_per_cu_hour(kw, pue) * HALF_HOUR
                for offer_id, kwh in EnergyAward.objects.filter(
                    run=run, interval_start=start, is_current=True
                ).values_list("offer_id", "kwh"):
                    supply[offer_id] += kwh
            self.intervals[start] = _Interval(
                start=start,
                run=run,
                ordered_cu=dict(ordered_cu),
                ordered_site_kwh=dict(site_kwh),
                ordered_supply_kwh=dict(supply),
                settled_state=IntervalSettlement.objects.filter(interval_start=start)
                .values_list("state", flat=True)
                .first(),
                existing=dict(
                    MeterReading.objects.filter(interval_start=start)
                    .values("subject")
                    .annotate(r=Max("revision"))
                    .values_list("subject", "r")
                ),
            )
        return self.intervals[start]


class _Errors(dict):
    """Field → messages of one reading; every check adds to it, so a client sees them all."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


@dataclass
class _Ordered:
    """What the current orders say a reading is about: its subject and the quantity ordered."""

    site: Site | None = None
    workload_pk: int | None = None
    offer_pk: int | None = None
    quantity: Decimal | None = None


def _clean_reading(item: Any, ctx: _Context, seen: set[str]) -> tuple[MeterReading | None, dict]:
    """One uploaded reading as an unsaved MeterReading, or the errors that refuse it."""
    errors = _Errors()
    if not isinstance(item, dict):
        return None, {"non_field_errors": [_("Give each reading as an object.")]}
    kind = item.get("kind")
    if kind not in ReadingKind.values:
        errors.add("kind", _("Choose one of: %(k)s.") % {"k": ", ".join(ReadingKind.values)})
        return None, errors
    _check_role(kind, ctx.actor.organisation, errors)
    interval = _cleared_interval(item, ctx, errors)
    if interval is None:
        return None, errors
    quantity_field = "cu" if kind == ReadingKind.COMPUTE else "kwh"
    quantity = _quantity(item.get(quantity_field))
    if quantity is None:
        errors.add(quantity_field, _("Give a number."))
    elif quantity < 0:
        errors.add(quantity_field, _("Meter readings cannot be negative."))
    ordered = _what_was_ordered(kind, item, ctx, interval, errors)
    if ordered.quantity is not None and quantity is not None and quantity >= 0:
        _check_tolerance(quantity, ordered.quantity, quantity_field, ctx, errors)
    if errors:
        return None, errors

    subject = reading_subject(
        kind,
        site_id=ordered.site.pk if ordered.site else None,
        workload_id=ordered.workload_pk,
        offer_id=ordered.offer_pk,
    )
    late = _check_reporting_window(interval, subject, ctx, errors)
    if subject in seen:
        errors.add("non_field_errors", _("This reading appears twice in the upload."))
    if errors:
        return None, errors
    seen.add(subject)
    reading = MeterReading(
        interval_start=interval.start,
        kind=kind,
        subject=subject,
        revision=interval.existing.get(subject, 0) + 1,
        organisation=ctx.actor.organisation,
        site=ordered.site,
        workload_id=ordered.workload_pk,
        offer_id=ordered.offer_pk,
        cu=quantity if kind == ReadingKind.COMPUTE else None,
        kwh=quantity if kind != ReadingKind.COMPUTE else None,
        late=late,
        actor_label=ctx.actor.label,
        created_at=ctx.now,
    )
    return reading, {}


def _check_role(kind: str, org: Organisation, errors: _Errors) -> None:
    if kind in (ReadingKind.COMPUTE, ReadingKind.SITE_ENERGY) and not org.has_role(
        OrganisationRole.COMPUTE_PROVIDER
    ):
        errors.add("kind", _("Only compute providers report CU and site energy."))
    if kind == ReadingKind.SUPPLY and not org.has_role(OrganisationRole.POWER_SUPPLIER):
        errors.add("kind", _("Only power suppliers report energy delivered from their offers."))


def _cleared_interval(item: dict, ctx: _Context, errors: _Errors) -> _Interval | None:
    """The cleared interval the reading names, or None with the reason in `errors`."""
    try:
        start = calendar.parse_iso(str(item.get("interval_start", "")))
    except ValueError:
        start = None
    if start is None or not calendar.is_aligned(start):
        errors.add("interval_start", _("Give the interval start in ISO 8601, on :00 or :30."))
        return None
    interval = ctx.interval(start)
    if interval.run is None:
        errors.add(
            "interval_start",
            _("No cleared interval starts at %(k)s.") % {"k": calendar.interval_text(start)},
        )
        return None
    return interval


def _what_was_ordered(
    kind: str, item: dict, ctx: _Context, interval: _Interval, errors: _Errors
) -> _Ordered:
    """The reading's site, workload or offer, and what the interval's current orders set for
    it; a subject no current order of the organisation covers is an error."""
    ordered = _Ordered()
    if kind in (ReadingKind.COMPUTE, ReadingKind.SITE_ENERGY):
        ordered.site = ctx.sites.get(str(item.get("site", "")))
        if ordered.site is None:
            errors.add(
                "site", _("Unknown site '%(s)s' for your organisation.") % {"s": item.get("site")}
            )
            return ordered
    site = ordered.site
    if kind == ReadingKind.COMPUTE:
        wl_pk = parse_public_id(item.get("workload"), WORKLOAD)
        ordered.quantity = interval.ordered_cu.get((site.pk, wl_pk)) if wl_pk else None
        if ordered.quantity is None:
            errors.add(
                "workload",
                _("No current order places workload '%(w)s' at site %(s)s in this interval.")
                % {"w": item.get("workload"), "s": site.code},
            )
        else:
            ordered.workload_pk = wl_pk
    elif kind == ReadingKind.SITE_ENERGY:
        ordered.quantity = interval.ordered_site_kwh.get(site.pk)
        if ordered.quantity is None:
            errors.add(
                "site", _("Site %(s)s has no current order in this interval.") % {"s": site.code}
            )
    elif kind == ReadingKind.SUPPLY:
        offer_pk = parse_public_id(item.get("offer"), ENERGY_OFFER)
        ordered.quantity = interval.ordered_supply_kwh.get(offer_pk) if offer_pk else None
        if ordered.quantity is None or offer_pk not in ctx.offer_ids:
            ordered.quantity = None
            errors.add(
                "offer",
                _("No current delivery order of yours covers offer '%(o)s' in this interval.")
                % {"o": item.get("offer")},
            )
        else:
            ordered.offer_pk = offer_pk
    return ordered


def _check_tolerance(
    quantity: Decimal, ordered: Decimal, field: str, ctx: _Context, errors: _Errors
) -> None:
    limit = ordered * (1 + ctx.params.metering_tolerance_pct / 100)
    if quantity > limit:
        errors.add(
            field,
            _(
                "%(q)s is more than the ordered %(o)s plus the %(t)s %% tolerance "
                "(at most %(limit)s)."
            )
            % {
                "q": quantity,
                "o": ordered.normalize(),
                "t": ctx.params.metering_tolerance_pct.normalize(),
                "limit": limit.quantize(Decimal("0.001")),
            },
        )


def _check_reporting_window(
    interval: _Interval, subject: str, ctx: _Context, errors: _Errors
) -> bool:
    """Whether the reading is late; reporting before the interval ended, or after what the
    deadlines allow, is an error."""
    start = interval.start
    end = start + calendar.INTERVAL
    deadline = metering_deadline(start, ctx.params)
    late = ctx.now > deadline
    if ctx.now < end:
        errors.add(
            "interval_start",
            _("The interval has not ended yet; report after %(t)s.")
            % {"t": calendar.jst_text(end)},
        )
    elif late:
        # Past the deadline only what is still missing from a provisional settlement is
        # taken (it makes the settlement final); corrections of settled data are not.
        if interval.settled_state != Stage.PROVISIONAL or subject in interval.existing:
            errors.add(
                "interval_start",
                _("The metering deadline for this interval passed at %(t)s.")
                % {"t": calendar.jst_text(deadline)},
            )
        elif ctx.now > late_metering_end(start, ctx.params):
            errors.add(
                "interval_start",
                _("Late meter data for this interval was accepted until %(t)s.")
                % {"t": calendar.jst_text(late_metering_end(start, ctx.params))},
            )
    return late


def _require_writer(actor: Actor) -> None:
    if not actor.can_write:
        raise Forbidden(_("Reporting meter data needs the 'trade' permission."))


@transaction.atomic
def _write(
    actor: Actor, readings: list[MeterReading], now: datetime, source: str
) -> list[MeterReading]:
    try:
        with transaction.atomic():
            MeterReading.objects.bulk_create(readings, batch_size=2000)
    except IntegrityError as exc:
        raise Conflict(
            _("Another upload for the same readings was written at the same time; retry.")
        ) from exc
    record_change(
        actor,
        SettlementAudit.METER_REPORTED,
        readings[0],
        {
            "source": source,
            "count": len(readings),
            "late": sum(1 for r in readings if r.late),
            "readings": [
                [r.subject, calendar.iso_z(r.interval_start), r.revision, str(r.quantity)]
                for r in readings[:200]
            ],
        },
    )
    late_runs = sorted({r.interval_start for r in readings if r.late})
    if late_runs:
        from settlement.tasks import finalise_interval

        run_ids = list(
            ClearingRun.objects.filter(interval_start__in=late_runs).values_list("pk", flat=True)
        )
        now_iso = calendar.iso_z(now)
        for pk in run_ids:  # each published once these readings commit (AfterCommitTask)
            finalise_interval.delay(pk, now_iso)
    return readings


def meter_report(
    *, actor: Actor, item: dict[str, Any], now: datetime | None = None
) -> MeterReading:
    """One reading; field errors name the field."""
    _require_writer(actor)
    now = now or timezone.now()
    reading, errors = _clean_reading(item, _Context(actor, now), set())
    if errors:
        raise InvalidInput.from_errors(errors)
    return _write(actor, [reading], now, "api")[0]


def meter_report_bulk(
    *, actor: Actor, items: Any, now: datetime | None = None, source: str = "api-bulk",
    row_label: str = "index", first_row: int = 0,
) -> list[MeterReading]:  # fmt: skip
    """Up to 10,000 readings: all written, or — if any is invalid — none."""
    _require_writer(actor)
    if not isinstance(items, list) or not items:
        raise InvalidInput.from_errors({"readings": [_("Give a non-empty list of readings.")]})
    if len(items) > MAX_BULK:
        raise InvalidInput.from_errors(
            {"readings": [_("At most %(max)d readings per request.") % {"max": MAX_BULK}]}
        )
    now = now or timezone.now()
    ctx = _Context(actor, now)
    seen: set[str] = set()
    readings, item_errors = [], []
    for index, item in enumerate(items):
        reading, errors = _clean_reading(item, ctx, seen)
        if errors:
            item_errors.append({row_label: index + first_row, "errors": errors})
        else:
            readings.append(reading)
    if item_errors:
        raise InvalidInput(
            _("%(bad)d of %(total)d readings are invalid; none was written.")
            % {"bad": len(item_errors), "total": len(items)},
            errors={"readings": item_errors},
        )
    return _write(actor, readings, now, source)


def meter_report_csv(
    *, actor: Actor, content: bytes | str, now: datetime | None = None
) -> list[MeterReading]:
    """A CSV upload (header: kind,interval_start,site,workload,offer,cu,kwh); errors by row."""
    _require_writer(actor)
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput.from_errors({"file": [_("The file is not UTF-8 text.")]}) from None
    if not content.strip():
        raise InvalidInput.from_errors({"file": [_("The file is empty.")]})
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "kind" not in header or "interval_start" not in header:
        raise InvalidInput.from_errors(
            {
                "file": [
                    _("The first line must name the columns: %(c)s.") % {"c": ",".join(CSV_COLUMNS)}
                ]
            }
        )
    items = [
        {k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader
    ]
    if not items:
        raise InvalidInput.from_errors({"file": [_("The file has no readings.")]})
    # Row 1 is the header, so the first reading is on row 2.
    return meter_report_bulk(
        actor=actor, items=items, now=now, source="csv", row_label="row", first_row=2
    )
