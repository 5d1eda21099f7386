"""Benchmark: the market-impact page's and the dashboard's server time with demo market data.

    .venv/bin/python bench/impact.py [--days 7] [--repeat 30] [--reuse]

Builds a fresh database (SQLite file var/bench-impact.sqlite3 unless DATABASE_URL is set)
with the demo participants, `--days` days of demo bids cleared through the production
pipeline (which records each run's impact figures as it completes), then renders
/impact/?month=… (the month of the last day) and the dashboard for each role and prints
p50/p95 against the 300 ms target. It also times the memo's cold path: the figures of
every run computed again from the snapshots, per run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from _demo_month import demo_market, logged_in, timed

TARGET_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the data built last time")
    args = parser.parse_args()
    built = demo_market("impact", args.days, args.reuse)
    from django.utils import timezone

    from market import calendar
    from market.models.clearing import ClearingRun
    from settlement.impact.services import run_impact_ensure
    from settlement.models import ImpactFigure, RunImpact

    today = calendar.to_jst(timezone.now()).date()
    runs = ClearingRun.objects.count()
    figures = ImpactFigure.objects.count()
    print(f"data: {runs} clearing runs, {figures} impact figures ({built})")
    # The memo's cold path: what a run without figures costs when the page first asks.
    RunImpact.objects.all().delete()
    ImpactFigure.objects.all().delete()
    t = time.perf_counter()
    computed, _left = run_impact_ensure(
        start=calendar.slot_start(today - timedelta(days=400), 1),
        end=calendar.slot_start(today + timedelta(days=2), 1),
    )
    cold = time.perf_counter() - t
    print(
        f"cold: figures of {computed} runs computed in {cold:.1f} s "
        f"({1000 * cold / max(computed, 1):.1f} ms per run)"
    )
    month = f"{today:%Y-%m}"
    print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  vs {TARGET_MS:.0f} ms target")
    worst = 0.0
    for username in ("owner", "provider", "supplier", "regulator"):
        client = logged_in(username)
        for label, url in (
            (f"/impact/ ({username})", f"/impact/?month={month}"),
            (f"/ ({username})", "/"),
        ):
            times = timed(client, url, args.repeat)
            p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
            worst = max(worst, p95)
            print(
                f"{label:<28} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}  "
                f"p95/target {p95 / TARGET_MS:.2f}"
            )
    verdict = "within" if worst <= TARGET_MS else "ABOVE"
    print(f"result: worst p95 {worst:.1f} ms — {verdict} target")


if __name__ == "__main__":
    main()
