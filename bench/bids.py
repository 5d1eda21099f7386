"""Market benchmark (on demand, not in the test suite): bulk bids, single-bid POST latency, snapshot.

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres .venv/bin/python bench/bids.py

Creates and drops its own test database next to DATABASE_URL's. Targets (issue 3): bulk of
10,000 bids ≤ 5 s; single-bid POST p99 ≤ 50 ms at a steady rate; snapshot of 5,000 bids × 48
intervals ≤ 2 s. Prints figures and ratios; `--write` puts them into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _engine_scenarios import AREAS  # noqa: E402
from _report import publish, scratch_database  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aggregator.settings_test")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from market import calendar  # noqa: E402
from market.choices import SignalKind  # noqa: E402
from market.models import Signal  # noqa: E402
from market.snapshot import snapshot_build  # noqa: E402
from operators import services  # noqa: E402
from operators.actors import Actor  # noqa: E402
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole  # noqa: E402
from operators.models import GridArea  # noqa: E402

SECTION = "## Market (bench/bids.py)"
ZONES = {
    "sapporo": 3,
    "sendai": 9,
    "tokyo": 12,
    "nagoya": 14,
    "osaka": 15,
    "hiroshima": 20,
    "fukuoka": 25,
}


def _setup(sites: int) -> tuple[APIClient, list[str]]:
    org = services.organisation_create(
        actor=None, slug="bench", legal_name_ja="ベンチ", legal_name_en="Bench",
        roles=["compute_provider", "workload_owner"],
    )  # fmt: skip
    member = services.member_add(
        actor=None, organisation=org, username="bench", email="bench@example.jp",
        role=MemberRole.ADMIN, password="bench-password-2026",  # noqa: S106 — throwaway bench database
    )  # fmt: skip
    actor = Actor(org, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=member.user)
    codes = []
    for i in range(sites):
        code = f"bench-{i:03d}"
        services.site_register(
            actor=actor, code=code, name=code, area=AREAS[i % len(AREAS)], prefecture="tokyo",
            accelerator="h100", capacity_cu=1024, kw_per_cu="1.0", pue="1.2",
            residency_tags=["jp"], latency_ms=ZONES,
        )  # fmt: skip
        codes.append(code)
    _api_key, key = services.api_key_create(actor=actor, name="bench", scopes=["read", "trade"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client, codes


def _prices(start, n):
    Signal.objects.bulk_create(
        Signal(kind=SignalKind.AREA_PRICE, area_id=a, interval_start=at,
               value=Decimal("10") + (i % 7), source="bench", published_at=start - timedelta(days=1))
        for a in GridArea.objects.values_list("code", flat=True)
        for i, at in enumerate(calendar.interval_starts(start, n))
    )  # fmt: skip


def _bid(i: int, start, codes: list[str]) -> dict:
    iso = calendar.iso_z(start)
    if i % 5 < 2:
        return {"type": "capacity", "start": iso, "intervals": 48, "site": codes[i % len(codes)],
                "cu": [8 + i % 5] * 48, "price": [150 + i % 50] * 48}  # fmt: skip
    if i % 5 < 4:
        return {"type": "workload", "start": iso, "intervals": 48, "kind": "inference",
                "accelerator": "h100", "residency_tags": ["jp"], "limit_price": 600 + i % 300,
                "zone": "tokyo", "max_latency_ms": 20, "demand": [1 + i % 4] * 48}  # fmt: skip
    return {"type": "workload", "start": iso, "intervals": 48, "kind": "batch",
            "accelerator": "h100", "limit_price": 300 + i % 200, "remaining_cu_intervals": 64,
            "max_cu": 16, "gang": 8, "migration_cost": 2, "allowed_areas": ["hokkaido", "kyushu", "tokyo"]}  # fmt: skip


def run(rate: float, singles: int) -> dict[str, float]:
    client, codes = _setup(sites=60)
    day1 = calendar.first_open_interval(timezone.now(), 60) + timedelta(hours=2)
    day2 = day1 + timedelta(days=1)
    _prices(day1, 48)
    items = [_bid(i, day1 if i < 5000 else day2, codes) for i in range(10_000)]
    started = time.perf_counter()
    response = client.post("/api/v1/bids/bulk", {"bids": items}, format="json")
    bulk_s = time.perf_counter() - started
    assert response.status_code == 201, response.content[:500]

    single = {k: v for k, v in _bid(1, day2, codes).items() if k != "type"}
    latencies = []
    interval = 1 / rate
    next_at = time.perf_counter()
    for i in range(singles):
        next_at += interval
        t0 = time.perf_counter()
        # Spread over the sites: every offer is checked against its site's capacity.
        single["site"] = codes[i % len(codes)]
        response = client.post(
            "/api/v1/capacity-offers/", single, format="json", headers={"Idempotency-Key": f"s-{i}"}
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 201, response.content[:300]
        time.sleep(max(0.0, next_at - time.perf_counter()))
    latencies.sort()

    started = time.perf_counter()
    snap = snapshot_build(start=day1, horizon=48)
    snapshot_s = time.perf_counter() - started
    bids_in = len(snap.document["workloads"]) + len(snap.document["capacity_offers"])
    return {
        "bulk_s": bulk_s,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rate": rate,
        "singles": singles,
        "snapshot_s": snapshot_s,
        "snapshot_bids": bids_in,
        "snapshot_bytes": len(snap.canonical),
    }


def report(r: dict[str, float], vendor: str) -> str:
    return "\n".join(
        [
            SECTION,
            "",
            "Command: `DATABASE_URL=postgres://… .venv/bin/python bench/bids.py --write` "
            f"(database: {vendor}; in-process DRF test client with an API key, so HTTP "
            "parsing and gunicorn are not included; one 2-core machine; single run, ±30 %).",
            "",
            "| measure | figure | target | ratio |",
            "|---|---|---|---|",
            f"| bulk submission, 10,000 bids × 48 intervals (one request) | {r['bulk_s']:.2f} s | ≤ 5 s | {r['bulk_s'] / 5:.2f} |",
            f"| single-bid POST p50 ({r['singles']} at {r['rate']:.0f}/s, with Idempotency-Key) | {r['p50_ms']:.1f} ms | — | — |",
            f"| single-bid POST p99 | {r['p99_ms']:.1f} ms | ≤ 50 ms | {r['p99_ms'] / 50:.2f} |",
            f"| snapshot build, {r['snapshot_bids']:,} bids × 48 intervals ({r['snapshot_bytes'] / 1e6:.1f} MB canonical JSON) | {r['snapshot_s']:.2f} s | ≤ 2 s | {r['snapshot_s'] / 2:.2f} |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=20.0, help="single POSTs per second")
    parser.add_argument("--singles", type=int, default=400, help="number of single POSTs")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with scratch_database() as database:
        results = run(args.rate, args.singles)
    publish(SECTION, report(results, database), args.write)


if __name__ == "__main__":
    main()
