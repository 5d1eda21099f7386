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
import io
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 300.0


def _timed(client, url: str, repeat: int) -> list[float]:
    client.get(url)  # warm: templates and translations compiled
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the data built last time")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        db = ROOT / "var" / "bench-impact.sqlite3"
        db.parent.mkdir(exist_ok=True)
        if not args.reuse:
            db.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from aggregator.exchange.demo.market import load_market_demo
    from market import calendar
    from market.models.clearing import ClearingRun
    from settlement.impact.services import run_impact_ensure
    from settlement.models import ImpactFigure, RunImpact

    call_command("migrate", verbosity=0)
    User = get_user_model()
    today = calendar.to_jst(timezone.now()).date()
    if not args.reuse:
        call_command("load_demo", stdout=io.StringIO())
        first_day = today - timedelta(days=args.days - 1)
        started = time.perf_counter()
        for offset in range(args.days):
            day_start = calendar.slot_start(first_day + timedelta(days=offset), 1)
            load_market_demo(io.StringIO(), now=day_start - timedelta(minutes=90))
        call_command(
            "run_market",
            intervals=args.days * 48,
            start=calendar.iso_z(calendar.slot_start(first_day, 1)),
            stdout=io.StringIO(),
        )
        print(f"data built in {time.perf_counter() - started:.0f} s")
    runs = ClearingRun.objects.count()
    print(f"data: {runs} clearing runs, {ImpactFigure.objects.count()} impact figures")
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
        client = Client(HTTP_ACCEPT_LANGUAGE="ja", HTTP_HOST="localhost")
        # force_login: django-axes' backend wants a request, which Client.login lacks.
        client.force_login(User.objects.get(username=username))
        for label, url in (
            (f"/impact/ ({username})", f"/impact/?month={month}"),
            (f"/ ({username})", "/"),
        ):
            times = _timed(client, url, args.repeat)
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
