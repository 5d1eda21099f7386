"""Benchmark: the portal's server time (dashboard, results, report) with a month of demo data.

    .venv/bin/python bench/portal.py [--days 30] [--repeat 30]

Builds a fresh database (SQLite file under var/ unless DATABASE_URL is set) with the demo
participants, a month of demo bids priced from FY2023 JEPX days, and every interval of it
cleared through the production pipeline; then renders each role's dashboard and results
page (with their interactive charts' data) and the regulator's report page, and prints
p50/p95 server time against the 300 ms target.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the data built last time")
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        db = ROOT / "var" / "bench-portal.sqlite3"
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

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    today = calendar.to_jst(timezone.now()).date()
    first_day = today - timedelta(days=args.days - 1)
    started = time.perf_counter()
    for offset in range(args.days):
        day_start = calendar.slot_start(first_day + timedelta(days=offset), 1)
        load_market_demo(io.StringIO(), now=day_start - timedelta(minutes=90))
    first = calendar.slot_start(first_day, 1)
    intervals = args.days * 48
    call_command(
        "run_market", intervals=intervals, start=calendar.iso_z(first), stdout=io.StringIO()
    )
    built = "reused" if args.reuse else f"built in {time.perf_counter() - started:.0f} s"
    print(f"data: {ClearingRun.objects.count()} clearing runs ({built})")
    print(
        f"{'page':<18} {'role':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f"  vs {TARGET_MS:.0f} ms target"
    )
    worst = 0.0
    roles = ("owner", "provider", "supplier", "regulator")
    # The dashboard, and the pages with interactive charts (their data is built per request).
    pages = (("/", roles), ("/market/results/", roles), ("/reports/", ("regulator",)))
    for path, who in pages:
        for role in who:
            client = Client(HTTP_ACCEPT_LANGUAGE="ja", HTTP_HOST="localhost")
            # force_login: django-axes' backend wants a request that login() does not pass.
            client.force_login(get_user_model().objects.get(username=role))
            client.get(path)  # warm: templates and translations compiled
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (path, role, response.status_code)
            times.sort()
            p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
            worst = max(worst, p95)
            print(
                f"{path:<18} {role:<12} {p50:8.1f} {p95:8.1f} {times[-1]:8.1f}"
                f"  p95/target {p95 / TARGET_MS:.2f}"
            )
    print(
        f"result: worst p95 {worst:.1f} ms — {'within' if worst <= TARGET_MS else 'ABOVE'} target"
    )


if __name__ == "__main__":
    main()
