"""Synthetic national clearing snapshots on real FY2023 JEPX area prices (for bench/engine.py)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "jepx_area_prices_fy2023.csv"
AREAS = (
    "hokkaido",
    "tohoku",
    "tokyo",
    "chubu",
    "hokuriku",
    "kansai",
    "chugoku",
    "shikoku",
    "kyushu",
)
# Rough positions (km east, km north of Fukuoka) for latency ≈ 2 ms + 1 ms per 100 km.
ZONES = {
    "sapporo": (1300, 1000),
    "sendai": (1150, 560),
    "tokyo": (1000, 300),
    "nagoya": (720, 230),
    "osaka": (560, 200),
    "hiroshima": (250, 150),
    "fukuoka": (0, 0),
}
AREA_POS = {
    "hokkaido": (1300, 980),
    "tohoku": (1150, 600),
    "tokyo": (1000, 280),
    "chubu": (720, 240),
    "hokuriku": (700, 420),
    "kansai": (560, 190),
    "chugoku": (260, 170),
    "shikoku": (420, 90),
    "kyushu": (20, -30),
}
# Where sites sit (demand-heavy areas host more) and where users are.
SITE_WEIGHT = np.array([1.2, 0.8, 3.0, 1.2, 0.5, 2.0, 0.6, 0.5, 1.5])
# Certifications a site may hold and a workload may require (besides "jp").
EXTRA_TAGS = ("ismap", "fisc", "soc2")
SIZES = {"S": (12, 40), "M": (60, 600), "L": (200, 3000)}
# More accelerator classes in bigger markets (a national market has many hardware pools).
ACCELERATORS = {
    "S": ("h100", "a100"),
    "M": ("h100", "a100", "l40s"),
    "L": ("h100", "a100", "l40s", "mi300x", "gb200"),
}


def load_prices() -> dict[str, np.ndarray]:
    """date → 48 × 9 array of area prices (JPY/kWh)."""
    days: dict[str, list[list[float]]] = {}
    with DATA.open() as f:
        for row in csv.DictReader(f):
            days.setdefault(row["date"], []).append([float(row[a]) for a in AREAS])
    return {d: np.array(v) for d, v in days.items()}


def _latency(a: tuple[float, float], b: tuple[float, float], rng) -> float:
    return round(2.0 + math.dist(a, b) / 100.0 + rng.uniform(0, 1.5), 2)


def national(
    prices: np.ndarray,
    *,
    sites: int,
    workloads: int,
    seed: int,
    gang_share: float = 0.0,
    areas: tuple[str, ...] = AREAS,
    run_id: str = "bench",
    intervals: int = 48,
    batch_share: float = 0.5,
    accelerators: tuple[str, ...] = ("h100", "a100"),
    latency_choices: tuple[float, ...] = (4, 6, 10),
    latency_p: tuple[float, ...] = (0.6, 0.3, 0.1),
) -> dict:
    """One snapshot; `prices` is 48 × 9 (JEPX slot order, one day)."""
    rng = np.random.default_rng(seed)
    n_t = intervals
    area_idx = [AREAS.index(a) for a in areas]
    weights = SITE_WEIGHT[area_idx] / SITE_WEIGHT[area_idx].sum()
    doc_areas = []
    for a, i in zip(areas, area_idx, strict=True):
        caps = [None] * n_t
        if a in ("tokyo", "kansai"):  # evening congestion signals in the big load centres
            caps = [4000.0 if 34 <= t <= 41 else None for t in range(n_t)]
        doc_areas.append(
            {
                "id": a,
                "price": [round(float(p), 2) for p in prices[:n_t, i]],
                "carbon": 25 if a in ("hokuriku",) else 450,
                "cap_kw": caps,
            }
        )
    site_docs, offers = [], []
    for k in range(sites):
        area = areas[int(rng.choice(len(areas), p=weights))]
        sid = f"{area[:3]}-{k}"
        pos = AREA_POS[area]
        site_docs.append(
            {
                "id": sid,
                "area": area,
                "accelerator": str(rng.choice(accelerators)),
                "kw_per_cu": round(float(rng.uniform(0.6, 1.0)), 3),
                "pue": round(float(rng.uniform(1.1, 1.5)), 2),
                "latency_ms": {z: _latency(pos, zp, rng) for z, zp in ZONES.items()},
                "residency": ["jp", *[t for t in EXTRA_TAGS if rng.random() < 0.4]],
            }
        )
        cu = int(rng.choice([64, 128, 256]))
        profile = [cu // 2 if rng.random() < 0.03 else cu for _ in range(n_t)]
        offers.append(
            {
                "id": f"cap-{sid}",
                "site": sid,
                "cu": profile,
                "price": round(float(rng.uniform(150, 300)), 1),
            }
        )
    energy = []
    for a in areas:
        if a in ("hokkaido", "tohoku", "kyushu"):  # midday solar curtailment relief
            kwh = [
                round(float(rng.uniform(200, 3000)), 1) if 18 <= t <= 30 else 0.0
                for t in range(n_t)
            ]
            energy.append(
                {
                    "id": f"en-{a}",
                    "area": a,
                    "kwh": kwh,
                    "price": round(float(rng.uniform(0.01, 1.0)), 2),
                    "carbon": 25,
                    "curtailment_relief": True,
                }
            )
    diurnal = 0.6 + 0.4 * np.sin(np.linspace(-math.pi / 2, 3 * math.pi / 2, n_t)) ** 2
    work_docs = []
    for k in range(workloads):
        acc = str(rng.choice(accelerators))
        tags = ["jp", str(rng.choice(EXTRA_TAGS))] if rng.random() < 0.3 else ["jp"]
        # Every workload has somewhere it already runs: a site with its hardware and tags.
        fits = [
            s for s in site_docs if s["accelerator"] == acc and set(tags) <= set(s["residency"])
        ]
        anchor = fits[int(rng.integers(len(fits)))] if fits else site_docs[0]
        if rng.random() >= batch_share:
            # Users sit in the zone nearest to the site serving them today.
            zone = min(ZONES, key=lambda z: (anchor["latency_ms"][z], z))
            peak = float(rng.uniform(4, 32))
            work_docs.append(
                {
                    "id": f"inf-{k}",
                    "kind": "inference",
                    "accelerator": acc,
                    "demand": [round(peak * d * rng.uniform(0.7, 1.0)) for d in diurnal],
                    "limit_price": round(float(rng.uniform(500, 1500)), 1),
                    "zone": zone,
                    "max_latency_ms": max(
                        float(rng.choice(latency_choices, p=latency_p)),
                        math.ceil(anchor["latency_ms"][zone]),
                    ),
                    "residency": tags,
                }
            )
        else:
            earliest = int(rng.integers(0, n_t // 2))
            max_cu = int(rng.choice([8, 16, 32, 64]))
            # Data stays in the home site's area, sometimes one more (where the data is).
            allowed = {anchor["area"]}
            if rng.random() < 0.5:
                allowed.add(str(rng.choice(areas)))
            work_docs.append(
                {
                    "id": f"bat-{k}",
                    "kind": "batch",
                    "accelerator": acc,
                    "remaining_cu_intervals": int(max_cu * rng.integers(4, 24)),
                    "max_cu": max_cu,
                    "earliest": earliest,
                    "deadline": int(earliest + rng.integers(12, 60)),
                    "limit_price": round(float(rng.uniform(150, 600)), 1),
                    "migration_cost": float(rng.choice([2, 5, 10])),
                    "residency": tags,
                    "home_site": anchor["id"],
                    "areas": sorted(allowed),
                }
            )
    # Gang sizes from their own stream, so the gang variant is the same market otherwise.
    gang_rng = np.random.default_rng(seed + 1)
    for w in work_docs:
        if w["kind"] == "batch" and gang_rng.random() < gang_share:
            w["gang"] = int(gang_rng.choice([4, 8]))
    return {
        "schema": "wattbit.clearing/1",
        "run_id": run_id,
        "interval_minutes": 30,
        "intervals": [f"slot-{t + 1}" for t in range(n_t)],
        "firm_intervals": 1,
        "carbon_price_jpy_per_t": 5000,
        "areas": doc_areas,
        "sites": site_docs,
        "capacity_offers": offers,
        "energy_offers": energy,
        "workloads": work_docs,
        "fixed": [],
    }
