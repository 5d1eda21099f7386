"""Settlement benchmark (on demand, not in the test suite): one big interval, a month of statements.

    DATABASE_URL=postgres://wattbit@127.0.0.1:55432/wattbit_bench .venv/bin/python bench/settlement.py

Creates and drops its own test database next to DATABASE_URL's. Targets (issue 6): settle
one interval with 10,000 allocations ≤ 2 s; monthly statements for 100 organisations
≤ 30 s. Prints figures and ratios; `--write` puts them into docs/benchmarks.md.

1. Interval: 100 organisations (30 providers × 3 sites in the nine areas, 60 owners, 10
   suppliers), 2,000 workloads each placed at 5 sites = 10,000 current allocations, 200
   energy awards, grid purchases, orders built by the market's own `build_order_rows`,
   meter readings for 97 % of lines (the rest settle provisionally). Timed: `interval_settle`
   (loading, planning, ledger writes, settlement rows, audit) — then `ledger_check`.
2. Month: 1,440 intervals (30 days) of ledger entries for the same 100 organisations, planned
   by the settlement planner and written by the ledger writer (about 4 postings per
   organisation and interval). Timed: for every organisation the statement, qualified
   invoice and purchase statement data, the statement CSV and the invoice PDF; the
   statement PDF (thousands of lines) is timed separately for a sample.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import publish, scratch_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings_test")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from market import calendar  # noqa: E402
from market.models import EnergyOffer, WorkloadBid  # noqa: E402
from market.models.clearing import (  # noqa: E402
    Allocation,
    ClearingRun,
    EnergyAward,
    EnergyPrice,
    GridPurchase,
)
from market.models.dispatch import DispatchOrder  # noqa: E402
from market.services.orders import build_order_rows  # noqa: E402
from operators.models import Organisation, Site  # noqa: E402
from settlement.choices import Stage  # noqa: E402
from settlement.documents.csv import render_statement_csv  # noqa: E402
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf  # noqa: E402
from settlement.ledger import Accounts, PlannedEntry, entries_write, ledger_check  # noqa: E402
from settlement.models import (  # noqa: E402
    MeterReading,
    SettlementParameters,
    reading_subject,
)
from settlement.services.plan import (  # noqa: E402
    AllocationRow,
    AwardRow,
    IntervalInput,
    OrderRow,
    SiteRow,
    plan_interval,
)
from settlement.services.settle import interval_settle, metering_deadline  # noqa: E402
from settlement.statements import monthly_documents  # noqa: E402

SECTION = "## Settlement (bench/settlement.py)"
AREAS = ["hokkaido", "tohoku", "tokyo", "chubu", "hokuriku", "kansai", "chugoku", "shikoku", "kyushu"]  # fmt: skip
K = datetime(2030, 5, 1, 3, 0, tzinfo=UTC)
MONTH = "2030-06"
D = Decimal


def _orgs() -> dict[str, list[Organisation]]:
    def make(prefix: str, n: int, roles: list[str]) -> list[Organisation]:
        return Organisation.objects.bulk_create(
            Organisation(slug=f"{prefix}{i:02d}", legal_name_ja=f"{prefix}{i}株式会社",
                         legal_name_en=f"{prefix}{i} K.K.", roles=roles)
            for i in range(n)
        )  # fmt: skip

    Organisation.objects.create(
        slug="ops", legal_name_ja="ワットビット取引所", legal_name_en="wattbit Exchange",
        roles=["market_operator"], invoice_registration_number="T1234567890123",
    )  # fmt: skip
    return {
        "providers": make("prov", 30, ["compute_provider"]),
        "owners": make("own", 60, ["workload_owner"]),
        "suppliers": make("sup", 10, ["power_supplier"]),
    }


def setup_interval(orgs, rng: random.Random) -> ClearingRun:
    sites = Site.objects.bulk_create(
        Site(organisation=p, code=f"site-{i:03d}-{j}", name="s", area_id=AREAS[(i * 3 + j) % 9],
             prefecture="tokyo", accelerator="h100", capacity_cu=1000,
             kw_per_cu=D("1.2"), pue=D("1.25"))
        for i, p in enumerate(orgs["providers"]) for j in range(3)
    )  # fmt: skip
    run = ClearingRun.objects.create(
        interval_start=K, horizon_intervals=1, gate_closure=K - timedelta(hours=1),
        status="completed",
    )  # fmt: skip
    end = K + calendar.INTERVAL
    workloads = WorkloadBid.objects.bulk_create(
        WorkloadBid(organisation=orgs["owners"][i % 60], start=K, end=end, interval_count=1,
                    gate_closure=K - timedelta(hours=1), kind="inference", accelerator="h100",
                    limit_price=D(900), demand=[10])
        for i in range(2000)
    )  # fmt: skip
    offers = EnergyOffer.objects.bulk_create(
        EnergyOffer(organisation=orgs["suppliers"][i % 10], start=K, end=end, interval_count=1,
                    gate_closure=K - timedelta(hours=1), area_id=AREAS[i % 9], kwh=[500],
                    price=["5"], carbon_g_per_kwh=D(20))
        for i in range(200)
    )  # fmt: skip
    price = {a: D(rng.randint(800, 1600)) / 100 for a in AREAS}
    EnergyPrice.objects.bulk_create(
        EnergyPrice(run=run, interval_start=K, area_id=a, jpy_per_kwh=p,
                    supplier_jpy_per_kwh=p - D("0.5"), cap_rent_jpy_per_kwh=D("0.5"))
        for a, p in price.items()
    )  # fmt: skip
    allocations = []
    for i, w in enumerate(workloads):
        for j in range(5):
            site = sites[(i * 7 + j * 13) % len(sites)]
            compute = D(rng.randint(15000, 25000)) / 100
            allocations.append(
                Allocation(run=run, interval_start=K, workload=w, site=site,
                           cu=D(rng.randint(100, 2000)) / 100, compute_jpy_per_cu_h=compute,
                           all_in_jpy_per_cu_h=compute + price[site.area_id] * D("1.5"))
            )  # fmt: skip
    Allocation.objects.bulk_create(allocations, batch_size=2000)
    awards = [
        EnergyAward(run=run, interval_start=K, offer=o, kwh=D(rng.randint(10000, 50000)) / 100,
                    jpy_per_kwh=price[o.area_id] - D("0.5"))
        for o in offers
    ]  # fmt: skip
    EnergyAward.objects.bulk_create(awards)
    GridPurchase.objects.bulk_create(
        GridPurchase(run=run, interval_start=K, area_id=a, kwh=D(20000)) for a in AREAS
    )
    # Orders exactly as clearing builds them (needs site and workload owner on each row).
    for a in allocations:
        a.site.organisation_id = a.site.organisation_id
    orders = build_order_rows(
        run=run, interval_start=K, allocations=allocations, awards=awards,
        site_connection={s.pk: {"site": s.code} for s in sites},
    )  # fmt: skip
    DispatchOrder.objects.bulk_create(orders, batch_size=2000)
    readings = []
    for a in allocations:
        if rng.random() < 0.97:
            share = D(1) if rng.random() < 0.9 else D("0.8")
            readings.append(
                MeterReading(interval_start=K, kind="compute", organisation_id=a.site.organisation_id,
                             subject=reading_subject("compute", site_id=a.site_id, workload_id=a.workload_id),
                             site=a.site, workload=a.workload, cu=a.cu * share,
                             actor_label="bench", created_at=K + calendar.INTERVAL)
            )  # fmt: skip
    # Unique per subject: a workload is placed at a site once here, so no duplicate subjects.
    seen = set()
    readings = [r for r in readings if not (r.subject in seen or seen.add(r.subject))]
    for e in awards:
        readings.append(
            MeterReading(interval_start=K, kind="supply", organisation_id=e.offer.organisation_id,
                         subject=reading_subject("supply", offer_id=e.offer_id), offer=e.offer,
                         kwh=e.kwh, actor_label="bench", created_at=K + calendar.INTERVAL)
        )  # fmt: skip
    MeterReading.objects.bulk_create(readings, batch_size=2000)
    return run


def bench_interval(orgs, rng) -> dict:
    with transaction.atomic():
        run = setup_interval(orgs, rng)
    allocations = Allocation.objects.filter(run=run).count()
    orders = DispatchOrder.objects.filter(run=run).count()
    now = metering_deadline(K, SettlementParameters.current())
    t0 = time.perf_counter()
    outcome = interval_settle(run=run, now=now)
    settle_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    verdict = ledger_check(now=now)
    check_s = time.perf_counter() - t0
    assert verdict.ok, verdict.problems
    return {
        "allocations": allocations, "orders": orders, "entries": outcome.entries,
        "provisional": outcome.provisional_items, "settle_s": settle_s,
        "postings": verdict.postings, "check_s": check_s,
    }  # fmt: skip


def _month_input(run_id: int, orgs, rng: random.Random) -> IntervalInput:
    """One interval's worth for the month: every organisation has one order or two."""
    providers, owners, suppliers = orgs["providers"], orgs["owners"], orgs["suppliers"]
    sites = {
        i + 1: SiteRow(i + 1, f"m{i}", p.pk, AREAS[i % 9], D("1.2"), D("1.25"))
        for i, p in enumerate(providers)
    }
    allocations = [
        AllocationRow(1 + i % 30, i, o.pk, D(rng.randint(100, 3000)) / 100, D(200), D("218.75"))
        for i, o in enumerate(owners)
    ]
    awards = [AwardRow(i, s.pk, AREAS[i % 9], D(rng.randint(1000, 9000)) / 10, D("12.5")) for i, s in enumerate(suppliers)]  # fmt: skip
    orders, n = [], 0
    for site_id in sorted({a.site_id for a in allocations}):
        n += 1
        orders.append(OrderRow(n, "hosting", sites[site_id].organisation_id, site_id, None))
        for owner in sorted({a.owner_id for a in allocations if a.site_id == site_id}):
            n += 1
            orders.append(OrderRow(n, "placement", owner, site_id, None))
    for e in awards:
        n += 1
        orders.append(OrderRow(n, "delivery", e.supplier_id, None, e.area_id))
    delivered = {
        reading_subject("compute", site_id=a.site_id, workload_id=a.workload_id): a.cu
        * (D(1) if rng.random() < 0.95 else D("0.7"))
        for a in allocations
    }
    return IntervalInput(
        run_id=run_id, orders=orders, allocations=allocations, awards=awards, sites=sites,
        area_price=dict.fromkeys(AREAS, D(13)), grid_kwh=dict.fromkeys(AREAS, D(300)), uplift=[],
        delivered=delivered, fee_jpy_per_cu_h=D(2), deviation_multiplier=D("1.5"),
    )  # fmt: skip


def setup_month(orgs, rng: random.Random, days: int = 30) -> int:
    first = datetime(2030, 5, 31, 15, 0, tzinfo=UTC)  # 2030-06-01 00:00 JST
    accounts = Accounts()
    runs = ClearingRun.objects.bulk_create(
        ClearingRun(interval_start=first + i * calendar.INTERVAL, horizon_intervals=1,
                    gate_closure=first, status="completed")
        for i in range(days * 48)
    )  # fmt: skip
    postings = 0
    batch: list[PlannedEntry] = []
    for run in runs:
        for plan in plan_interval(_month_input(run.pk, orgs, rng), accounts).values():
            batch.append(PlannedEntry(run.interval_start, run.pk, None, "settlement", Stage.FINAL, "bench", plan.lines))  # fmt: skip
            postings += len(plan.lines)
        if len(batch) > 5000:
            with transaction.atomic():
                entries_write(batch, now=first)
            batch = []
    with transaction.atomic():
        entries_write(batch, now=first)
    return postings


def bench_month(orgs, rng, days: int = 30) -> dict:
    t0 = time.perf_counter()
    postings = setup_month(orgs, rng, days)
    setup_s = time.perf_counter() - t0
    everyone = [o for group in orgs.values() for o in group]
    lines = 0
    t0 = time.perf_counter()
    for org in everyone:
        docs = monthly_documents(organisation=org, month=MONTH)
        render_statement_csv(docs.statement)
        if docs.invoice:
            render_invoice_pdf(docs.invoice, "ja")
        if docs.purchase:
            render_invoice_pdf(docs.purchase, "ja")
        lines += len(docs.statement.lines)
    month_s = time.perf_counter() - t0
    sample = [orgs["owners"][0], orgs["providers"][0]]
    t0 = time.perf_counter()
    for org in sample:
        render_statement_pdf(monthly_documents(organisation=org, month=MONTH).statement, "ja")
    pdf_s = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    verdict = ledger_check(now=datetime(2030, 5, 1, tzinfo=UTC))
    check_s = time.perf_counter() - t0
    assert not verdict.hash_mismatches and not verdict.unbalanced_entries, verdict.problems
    return {
        "check_s": check_s, "check_postings": verdict.postings,
        "orgs": len(everyone), "postings": postings, "setup_s": setup_s, "lines": lines,
        "month_s": month_s, "statement_pdf_s": pdf_s,
    }  # fmt: skip


def run(days: int = 30) -> dict:
    rng = random.Random(6)
    orgs = _orgs()
    interval = bench_interval(orgs, rng)
    month = bench_month(orgs, rng, days)
    return {**interval, **{f"m_{k}": v for k, v in month.items()}, "days": days}


def report(r: dict, vendor: str) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            "Command: `DATABASE_URL=postgres://wattbit@127.0.0.1:55432/wattbit_bench "
            f".venv/bin/python bench/settlement.py --write` (database: {vendor}; one "
            "2-core machine; single run, ±30 %).",
            "",
            "| measure | figure | target | ratio |",
            "|---|---|---|---|",
            f"| settle one interval: {r['allocations']:,} allocations, {r['orders']:,} current orders → {r['entries']:,} entries / {r['postings']:,} postings ({r['provisional']} provisional items) | {r['settle_s']:.2f} s | ≤ 2 s | {r['settle_s'] / 2:.2f} |",
            f"| `ledger_check` after it | {r['check_s']:.2f} s | — | — |",
            f"| monthly statements, {r['m_orgs']} organisations × {r['days'] * 48:,} intervals ({r['m_lines']:,} statement lines): statement + invoice + purchase-statement data, statement CSV, invoice and purchase PDFs | {r['m_month_s']:.1f} s | ≤ 30 s | {r['m_month_s'] / 30:.2f} |",
            f"| statement PDF of one organisation (~{r['m_lines'] // r['m_orgs']:,} lines), each | {r['m_statement_pdf_s']:.1f} s | — | — |",
            f"| `ledger_check` of the whole ledger ({r['m_check_postings']:,} postings: balances, hashes, reversals, once) | {r['m_check_s']:.1f} s | — | — |",
            f"| (setup: writing the month's {r['m_postings']:,} postings through the ledger writer) | {r['m_setup_s']:.0f} s | — | — |",
            "",
            "Statement PDFs are rendered on request (REST, portal, `make_statements`), not in the "
            "timed batch: every organisation's would add about "
            f"{r['m_statement_pdf_s'] * r['m_orgs']:.0f} s (reportlab tables of thousands of "
            "lines); the CSV carries the same lines.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--days", type=int, default=30, help="days in the month (profiling)")
    args = parser.parse_args()
    with scratch_database() as database:
        results = run(args.days)
    publish(SECTION, report(results, database), args.write)


if __name__ == "__main__":
    main()
