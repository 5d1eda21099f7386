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
import statistics

from _demo_month import demo_market, logged_in, timed

TARGET_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the data built last time")
    args = parser.parse_args()
    built = demo_market("portal", args.days, args.reuse)
    from market.models.clearing import ClearingRun

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
            times = timed(logged_in(role), path, args.repeat)
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
