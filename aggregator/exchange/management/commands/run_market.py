"""Run N consecutive intervals through the production pipeline on a simulated clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min, Sum
from django.utils import timezone

from aggregator.exchange.tasks import clear_interval
from market import calendar
from market.choices import LIVE_STATUSES
from market.models import MarketParameters, WorkloadBid
from market.models.clearing import Allocation, ClearingRun, EnergyPrice, RunStatus
from market.models.dispatch import DeliveryState, DispatchOrder, OrderDelivery
from market.tasks import push_due_deliveries

# Short labels for one-line progress (the codes' first letters collide).
AREA_LABELS = {
    "hokkaido": "HKD", "tohoku": "THK", "tokyo": "TKY", "chubu": "CHB", "hokuriku": "HKR",
    "kansai": "KNS", "chugoku": "CGK", "shikoku": "SKK", "kyushu": "KYU",
}  # fmt: skip


def _pct(value: Decimal, base: Decimal) -> str:
    if not base:
        return "n/a"
    return f"{(value - base) / abs(base) * 100:+.1f} %"


class Command(BaseCommand):
    help = (
        "Clear N consecutive intervals exactly as beat and the workers would, with the clock "
        "set to each interval's gate closure; one line per interval, a summary last."
    )

    def add_arguments(self, parser):
        parser.add_argument("--intervals", type=int, required=True, help="how many intervals")
        parser.add_argument("--from", dest="start", help="first interval start (ISO 8601)")
        parser.add_argument("--settle", action="store_true", help="also meter and settle")
        parser.add_argument("--seed", type=int, default=6, help="meter data seed (--settle)")

    def handle(
        self, *args, intervals: int, start: str | None, settle: bool, seed: int = 6, **options
    ):
        if intervals < 1 or intervals > 48 * 31:
            raise CommandError("--intervals must be between 1 and 1488 (31 days)")
        first = self._first_interval(start)
        lead = MarketParameters.current().gate_closure_lead_minutes
        self.stdout.write(
            f"running {intervals} interval(s) from {calendar.to_jst(first):%Y-%m-%d %H:%M} JST "
            f"(simulated clock at each gate closure, lead {lead} min)"
        )
        totals = {"cu": Decimal(0), "welfare": Decimal(0), "stay": Decimal(0), "greedy": Decimal(0)}
        runs = 0
        completed: list[ClearingRun] = []
        for i in range(intervals):
            k = first + i * calendar.INTERVAL
            now = calendar.gate_closure(k, lead)
            outcome = clear_interval.apply(args=[calendar.iso_z(k), calendar.iso_z(now)]).get()
            push = push_due_deliveries.apply(args=[calendar.iso_z(now)]).get()
            run = ClearingRun.objects.get(pk=outcome["run"])
            if run.status != RunStatus.COMPLETED:
                self.stdout.write(
                    self.style.ERROR(f"{self._when(k)}  run {run.pk} {run.status}: {run.error}")
                )
                continue
            runs += 1
            completed.append(run)
            cu = (
                Allocation.objects.filter(run=run, is_current=True).aggregate(s=Sum("cu"))["s"] or 0
            )
            totals["cu"] += cu
            totals["welfare"] += run.welfare_jpy
            totals["stay"] += run.stay_welfare_jpy
            totals["greedy"] += run.greedy_welfare_jpy
            prices = " ".join(
                f"{AREA_LABELS.get(p.area_id, p.area_id)} {p.jpy_per_kwh:.2f}"
                for p in EnergyPrice.objects.filter(run=run).order_by("area__jepx_order")
            )
            orders = DispatchOrder.objects.filter(run=run).count()
            note = "" if outcome["did_work"] else " (already cleared)"
            self.stdout.write(
                f"{self._when(k)}  {cu:>8.1f} CU | JPY/kWh {prices} | horizon welfare "
                f"{run.welfare_jpy:,.0f} (vs stay {_pct(run.welfare_jpy, run.stay_welfare_jpy)}, "
                f"greedy {_pct(run.welfare_jpy, run.greedy_welfare_jpy)}) | {orders} orders, "
                f"{push['delivered']} pushed{note}"
            )
        delivered = OrderDelivery.objects.filter(
            order__run__interval_start__gte=first, state=DeliveryState.DELIVERED
        ).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"summary: {runs}/{intervals} intervals cleared, {totals['cu']:,.1f} CU-intervals "
                f"firm, mean horizon welfare {totals['welfare'] / max(runs, 1):,.0f} JPY "
                f"(vs stay {_pct(totals['welfare'], totals['stay'])}, "
                f"greedy {_pct(totals['welfare'], totals['greedy'])}), "
                f"{delivered} webhook deliveries"
            )
        )
        if settle:
            self._settle(completed, seed)

    def _settle(self, completed: list[ClearingRun], seed: int) -> None:
        """Meter (plausible demo data, seeded), settle each interval, summarise the ledger."""
        from aggregator.exchange.demo.settlement import demo_meter_and_settle
        from settlement.ledger import ledger_check

        demo = demo_meter_and_settle(completed, seed=seed)
        verdict = ledger_check()
        kinds = ", ".join(f"{k} {v:+,}" for k, v in sorted(verdict.totals_by_kind.items()))
        style = self.style.SUCCESS if verdict.ok else self.style.ERROR
        # One line (the last): what was settled, then the ledger's summary.
        self.stdout.write(
            style(
                f"settlement: {demo.intervals} interval(s) settled, {demo.readings} readings on "
                f"time ({demo.shortfalls} shortfalls), {demo.late} late → "
                f"{demo.provisional_intervals} provisional interval(s), {demo.finalised_items} "
                f"item(s) made final by reversal | ledger: {verdict.entries} entries, "
                f"{verdict.postings} postings, balance {verdict.balance_jpy:+,} JPY, check "
                f"{'OK' if verdict.ok else 'FAILED: ' + '; '.join(verdict.problems)} | "
                f"JPY by account kind: {kinds}"
            )
        )

    @staticmethod
    def _when(k: datetime) -> str:
        return f"{calendar.to_jst(k):%Y-%m-%d %H:%M} JST"

    @staticmethod
    def _first_interval(start: str | None) -> datetime:
        if start:
            try:
                first = calendar.parse_iso(start)
            except ValueError as exc:
                raise CommandError(f"--from: {exc}") from exc
            if not calendar.is_aligned(first):
                raise CommandError("--from must be an interval start (:00 or :30)")
            return first
        # Default: the earliest interval with live workload bids that is not cleared yet.
        last = (
            ClearingRun.objects.filter(status=RunStatus.COMPLETED)
            .order_by("-interval_start")
            .values_list("interval_start", flat=True)
            .first()
        )
        earliest_bid = WorkloadBid.objects.filter(status__in=LIVE_STATUSES).aggregate(
            m=Min("start")
        )["m"]
        candidates = [c for c in (earliest_bid, last and last + calendar.INTERVAL) if c]
        if not candidates:
            return calendar.first_open_interval(timezone.now(), 60)
        return max(candidates)
