"""Writes of grid signals: the JEPX import, annual carbon factors, and publishers' series."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.audit_codes import SYSTEM_ACTOR
from aggregator.platform.errors import Forbidden, InvalidInput
from aggregator.platform.numbers import to_decimal
from market import calendar
from market.choices import MarketAudit, SignalKind
from market.jepx import SpotRow
from market.models import CarbonFactor, MarketParameters, Signal
from operators.actors import Actor
from operators.choices import OrganisationRole
from operators.models import GridArea

JEPX_SOURCE = "jepx-spot"
# JEPX publishes day-ahead results at about 10:00 JST on the day before delivery.
JEPX_PUBLICATION = time(10, 0)
BATCH = 5000

# Who may publish what: suppliers forecast curtailment; the operator sets caps and prices.
PUBLISHER_ROLE = {
    SignalKind.CURTAILMENT_MW: OrganisationRole.POWER_SUPPLIER,
    SignalKind.AREA_CAP_KW: OrganisationRole.MARKET_OPERATOR,
    SignalKind.AREA_PRICE: OrganisationRole.MARKET_OPERATOR,
    SignalKind.SYSTEM_PRICE: OrganisationRole.MARKET_OPERATOR,
    SignalKind.CARBON: OrganisationRole.MARKET_OPERATOR,
}


@dataclass(frozen=True)
class ImportSummary:
    created: int
    existing: int
    days: int
    first: datetime | None
    last: datetime | None


def jepx_published_at(row: SpotRow) -> datetime:
    local = datetime.combine(row.day - timedelta(days=1), JEPX_PUBLICATION, tzinfo=calendar.JST)
    return calendar.as_utc(local)


def _jepx_signals(row: SpotRow, source: str, shift: timedelta) -> Iterable[Signal]:
    start = calendar.slot_start(row.day, row.slot) + shift
    published = jepx_published_at(row) + shift
    yield Signal(
        kind=SignalKind.SYSTEM_PRICE,
        area_id=None,
        interval_start=start,
        value=row.system_price,
        source=source,
        published_at=published,
    )
    for area, price in row.area_prices.items():
        yield Signal(
            kind=SignalKind.AREA_PRICE,
            area_id=area,
            interval_start=start,
            value=price,
            source=source,
            published_at=published,
        )


@transaction.atomic
def signals_import_jepx(
    *,
    rows: list[SpotRow],
    source: str = JEPX_SOURCE,
    shift: timedelta = timedelta(0),
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Store system and area prices; values already stored (same interval, source) are skipped.

    One transaction: the import is whole or absent. `shift` re-dates the prices (the demo
    replays a past year's prices on today's calendar under a distinct source).
    """
    if not rows:
        return ImportSummary(0, 0, 0, None, None)
    starts = [calendar.slot_start(r.day, r.slot) + shift for r in rows]
    first, last = min(starts), max(starts)
    existing = {
        (kind, area, at)
        for kind, area, at in Signal.objects.filter(
            source=source,
            kind__in=[SignalKind.AREA_PRICE, SignalKind.SYSTEM_PRICE],
            interval_start__gte=first,
            interval_start__lte=last,
        ).values_list("kind", "area_id", "interval_start")
    }
    pending: list[Signal] = []
    created = skipped = 0
    for done, row in enumerate(rows, start=1):
        for signal in _jepx_signals(row, source, shift):
            if (signal.kind, signal.area_id, signal.interval_start) in existing:
                skipped += 1
            else:
                pending.append(signal)
        if len(pending) >= BATCH:
            Signal.objects.bulk_create(pending, batch_size=BATCH)
            created += len(pending)
            pending = []
        if progress is not None:
            progress(done, len(rows))
    Signal.objects.bulk_create(pending, batch_size=BATCH)
    created += len(pending)
    summary = ImportSummary(created, skipped, len({r.day for r in rows}), first, last)
    if created:
        audit_record(
            code=MarketAudit.SIGNALS_IMPORTED,
            actor_label=SYSTEM_ACTOR,
            object_type="market.signal",
            object_id=source,
            payload={
                "source": source,
                "created": created,
                "skipped": skipped,
                "first": calendar.iso_z(first),
                "last": calendar.iso_z(last),
            },
        )
    return summary


# Electricity Maps zones → JEPX areas.
EM_ZONES = {
    "JP-HKD": "hokkaido",
    "JP-TH": "tohoku",
    "JP-TK": "tokyo",
    "JP-CB": "chubu",
    "JP-HR": "hokuriku",
    "JP-KN": "kansai",
    "JP-CG": "chugoku",
    "JP-SK": "shikoku",
    "JP-KY": "kyushu",
}
EM_SOURCE = "Electricity Maps (ODbL), via thegreenwebfoundation/co2.js"


@transaction.atomic
def carbon_factors_import(*, path: Path) -> tuple[int, int]:
    """Load annual area factors from an Electricity Maps `yearly_YYYY.json`; (created, updated)."""
    match = re.search(r"(\d{4})", path.name)
    if match is None:
        raise InvalidInput.from_errors({"file": [_("The file name must contain the year.")]})
    year = int(match.group(1))
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput.from_errors({"file": [str(exc)]}) from None
    created = updated = 0
    for zone, area in EM_ZONES.items():
        entry = document.get(zone) if isinstance(document, dict) else None
        try:
            value = Decimal(str(entry["carbonIntensity"]["value"]))
            renewable = entry.get("renewableEnergy", {}).get("value")
        except (KeyError, TypeError):
            raise InvalidInput.from_errors(
                {"file": [_("Zone %(z)s has no carbonIntensity.value.") % {"z": zone}]}
            ) from None
        _obj, was_created = CarbonFactor.objects.update_or_create(
            area_id=area,
            year=year,
            defaults={
                "g_per_kwh": value,
                "renewable_pct": None if renewable is None else Decimal(str(renewable)),
                "source": EM_SOURCE,
            },
        )
        created += was_created
        updated += not was_created
    audit_record(
        code=MarketAudit.CARBON_FACTORS_IMPORTED,
        actor_label=SYSTEM_ACTOR,
        object_type="market.carbonfactor",
        object_id=str(year),
        payload={"year": year, "created": created, "updated": updated, "source": EM_SOURCE},
    )
    return created, updated


def _parse_instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(str(value)) if value else None
    return parsed if parsed and parsed.tzinfo else None


@transaction.atomic
def signal_publish(
    *,
    actor: Actor,
    kind: str,
    area: str | None,
    values: list[dict[str, Any]],
    source: str = "",
    now: datetime | None = None,
) -> list[Signal]:
    """Publish a series; later publications supersede earlier ones for the same interval."""
    if not actor.can_write:
        raise Forbidden(_("Publishing signals needs the 'trade' permission."))
    if kind not in SignalKind.values:
        raise InvalidInput.from_errors(
            {"kind": [_("Choose one of: %(k)s.") % {"k": ", ".join(SignalKind.values)}]}
        )
    role = PUBLISHER_ROLE[kind]
    if not actor.organisation.has_role(role):
        raise Forbidden(
            # The role as its label (市場運営者, "market operator"), not its code.
            _("Only a %(role)s publishes %(kind)s signals.")
            % {"role": str(OrganisationRole(role).label).lower(), "kind": kind}
        )
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if kind == SignalKind.SYSTEM_PRICE:
        if area:
            errors["area"] = [_("The system price is national; leave the area empty.")]
    elif not area or not GridArea.objects.filter(pk=area).exists():
        errors["area"] = [_("Unknown grid area '%(a)s'.") % {"a": area}]
    if not values:
        errors["values"] = [_("Give at least one value.")]
    params = MarketParameters.current()
    seen: set[datetime] = set()
    rows: list[Signal] = []
    for i, point in enumerate(values):
        at = _parse_instant(point.get("interval_start"))
        number = point.get("value")
        if at is None or not calendar.is_aligned(at):
            errors.setdefault("values", []).append(
                _("Item %(i)d: interval_start must be an aligned 30-minute start.") % {"i": i}
            )
            continue
        if at in seen:
            errors.setdefault("values", []).append(_("Item %(i)d: a repeated interval.") % {"i": i})
        seen.add(at)
        number = to_decimal(number)
        if number is None:
            errors.setdefault("values", []).append(_("Item %(i)d: not a number.") % {"i": i})
            continue
        if kind in (SignalKind.AREA_PRICE, SignalKind.SYSTEM_PRICE):
            ok = params.energy_price_min <= number <= params.energy_price_max
        else:
            ok = number >= 0
        if not ok:
            errors.setdefault("values", []).append(
                _("Item %(i)d: %(v)s is out of range for %(k)s.") % {"i": i, "v": number, "k": kind}
            )
        rows.append(
            Signal(
                kind=kind,
                area_id=area or None,
                interval_start=calendar.as_utc(at),
                value=number,
                source=source or actor.organisation.slug,
                published_at=now,
                publisher=actor.organisation,
                created_at=now,
            )
        )
    if errors:
        raise InvalidInput.from_errors(errors)
    Signal.objects.bulk_create(rows)
    audit_record(
        code=MarketAudit.SIGNALS_PUBLISHED,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        object_type="market.signal",
        object_id=f"{kind}:{area or 'national'}",
        payload={
            "kind": kind,
            "area": area,
            "count": len(rows),
            "first": calendar.iso_z(min(seen)),
            "last": calendar.iso_z(max(seen)),
        },
    )
    return rows
