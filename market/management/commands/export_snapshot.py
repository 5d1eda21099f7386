"""`manage.py export_snapshot --start ISO [--horizon 48] [-o FILE] | --demo`: a clearing input."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aggregator.platform.errors import InvalidInput
from market import calendar
from market.choices import LIVE_STATUSES
from market.models import CapacityOffer, EnergyOffer, MarketParameters, WorkloadBid
from market.snapshot import snapshot_build


def demo_horizon_start():
    """The first interval of the live bids that have not ended: what the demo data covers."""
    now = timezone.now()
    firsts = [
        model.objects.filter(status__in=LIVE_STATUSES, end__gt=now)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
        for model in (CapacityOffer, EnergyOffer, WorkloadBid)
    ]
    firsts = [f for f in firsts if f is not None]
    return min(firsts) if firsts else None


class Command(BaseCommand):
    help = "Write the wattbit.clearing/1 snapshot of a horizon (canonical JSON) and its sha256."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--start", help="first interval start, ISO 8601 with a timezone")
        group.add_argument("--demo", action="store_true", help="the horizon of the demo bids")
        parser.add_argument("--horizon", type=int, default=None, help="intervals (default 48)")
        parser.add_argument("-o", "--output", type=Path, help="file (default: standard output)")

    def handle(self, *args, start=None, demo=False, horizon=None, output=None, **options):
        if demo:
            first = demo_horizon_start()
            if first is None:
                raise CommandError("No live bids: run `manage.py load_market_demo` first.")
        else:
            first = parse_datetime(start)
            if first is None or first.tzinfo is None:
                raise CommandError(f"--start {start!r}: give an ISO 8601 time with a timezone.")
        if horizon is not None and not 1 <= horizon <= 7 * 48:
            raise CommandError("--horizon must be 1..336 intervals.")
        try:
            snapshot = snapshot_build(start=first, horizon=horizon)
        except InvalidInput as exc:
            problems = "; ".join(m for msgs in exc.errors.values() for m in msgs)
            raise CommandError(f"Cannot build the snapshot: {problems}") from None
        if output is None:
            sys.stdout.buffer.write(snapshot.canonical + b"\n")
            sys.stdout.flush()
            stream = self.stderr
        else:
            output.write_bytes(snapshot.canonical)
            stream = self.stdout
        doc = snapshot.document
        n = horizon or MarketParameters.current().horizon_intervals
        stream.write(
            f"snapshot {doc['run_id']} ({calendar.to_jst(first):%Y-%m-%d %H:%M} JST, {n} intervals): "
            f"{len(doc['capacity_offers'])} capacity, {len(doc['energy_offers'])} energy, "
            f"{len(doc['workloads'])} workloads; sha256 {snapshot.sha256}"
            + (f" → {output}" if output else "")
        )
