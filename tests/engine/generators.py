"""Hypothesis strategy for small random `wattbit.clearing/1` snapshots."""

from __future__ import annotations

from hypothesis import strategies as st

AREAS = ("hokkaido", "tokyo", "kyushu")
ZONES = ("sapporo", "tokyo", "fukuoka")
TAGS = ("jp", "ismap")


def _money(lo: float, hi: float):
    return st.integers(int(lo * 100), int(hi * 100)).map(lambda v: v / 100)


def _cu(n_t: int, hi: int):
    """Whole CU mostly; sometimes a half or a third (more than 6 decimals: the published
    limit is then rounded down)."""
    part = st.sampled_from((0.0, 0.0, 0.0, 0.5, 1 / 3))
    return st.lists(
        st.tuples(st.integers(0, hi), part).map(lambda v: v[0] + v[1] if v[0] else 0),
        min_size=n_t,
        max_size=n_t,
    )


@st.composite
def snapshots(
    draw,
    *,
    allow_gang: bool = True,
    steps: bool = True,
    no_migration: bool = False,
    movers: bool = False,
) -> dict:
    """`steps`: a site sometimes has two or three capacity offers (price steps), with
    equal prices at times and prices that change order between intervals. `no_migration`:
    a workload sometimes may not change site (which makes the clearing a MIP). `movers`:
    mostly batch workloads, each with a home site and a migration cost (pair generation's
    ground, `migration_pairs.py`)."""
    n_t = draw(st.integers(1, 4))
    areas = list(AREAS[: draw(st.integers(1, 3))])
    doc_areas = []
    for a in areas:
        caps = draw(st.lists(st.one_of(st.none(), st.integers(0, 40)), min_size=n_t, max_size=n_t))
        doc_areas.append(
            {
                "id": a,
                "price": draw(st.lists(_money(-1, 30), min_size=n_t, max_size=n_t)),
                "carbon": draw(st.integers(0, 600)),
                "cap_kw": caps,
            }
        )
    n_s = draw(st.integers(1, 4))
    sites, offers = [], []
    for i in range(n_s):
        sid = f"s{i}"
        sites.append(
            {
                "id": sid,
                "area": draw(st.sampled_from(areas)),
                "accelerator": draw(st.sampled_from(("h100", "a100"))),
                "kw_per_cu": draw(st.sampled_from((0.5, 0.7, 1.0))),
                "pue": draw(st.sampled_from((1.0, 1.2, 1.5))),
                "latency_ms": {z: draw(st.integers(1, 40)) for z in ZONES},
                "residency": draw(st.lists(st.sampled_from(TAGS), unique=True)),
            }
        )
        if draw(st.booleans()) or i == 0:
            price = draw(_money(20, 120))
            offers.append(
                {
                    "id": f"cap-{sid}",
                    "site": sid,
                    "cu": draw(st.lists(st.integers(0, 24), min_size=n_t, max_size=n_t)),
                    "price": price,
                }
            )
            for k in range(draw(st.sampled_from((0, 0, 1, 2))) if steps else 0):
                per_interval = st.lists(_money(20, 120), min_size=n_t, max_size=n_t)
                offers.append(
                    {
                        "id": f"cap-{sid}-{k + 1}",
                        "site": sid,
                        "cu": draw(_cu(n_t, 16)),
                        "price": draw(st.one_of(st.just(price), _money(20, 120), per_interval)),
                    }
                )
    energy = []
    for k in range(draw(st.integers(0, 2))):
        energy.append(
            {
                "id": f"en{k}",
                "area": draw(st.sampled_from(areas)),
                "kwh": draw(st.lists(st.integers(0, 12), min_size=n_t, max_size=n_t)),
                "price": draw(_money(-5, 25)),
                "carbon": draw(st.integers(0, 100)),
                "curtailment_relief": draw(st.booleans()),
            }
        )
    workloads = []
    for k in range(draw(st.integers(1, 4))):
        w = {
            "id": f"w{k}",
            "accelerator": draw(st.sampled_from(("h100", "a100"))),
            "limit_price": draw(_money(40, 400)),
            "residency": draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=1)),
        }
        if not (movers and draw(st.integers(0, 3))) and draw(st.booleans()):
            w["kind"] = "inference"
            w["demand"] = draw(st.lists(st.integers(0, 20), min_size=n_t, max_size=n_t))
        else:
            w["kind"] = "batch"
            w["remaining_cu_intervals"] = draw(st.integers(0, 60))
            w["earliest"] = draw(st.integers(0, n_t - 1))
            w["deadline"] = w["earliest"] + draw(st.integers(0, n_t + 1))
            w["max_cu"] = draw(st.integers(1, 20))
            if allow_gang and draw(st.booleans()):
                w["gang"] = draw(st.sampled_from((2, 4, 8)))
        if draw(st.booleans()):
            w["zone"] = draw(st.sampled_from(ZONES))
            w["max_latency_ms"] = draw(st.integers(5, 40))
        if draw(st.booleans()):
            w["areas"] = draw(st.lists(st.sampled_from(areas), unique=True, min_size=1))
        if movers or draw(st.booleans()):
            w["migration_cost"] = draw(_money(0, 30))
            w["home_site"] = draw(st.sampled_from([s["id"] for s in sites]))
        if no_migration and draw(st.booleans()):
            w["no_migration"] = True
        workloads.append(w)
    return {
        "schema": "wattbit.clearing/1",
        "run_id": "prop",
        "interval_minutes": 30,
        "intervals": [f"t{i}" for i in range(n_t)],
        "firm_intervals": 1,
        "carbon_price_jpy_per_t": draw(st.sampled_from((0, 5000))),
        "areas": doc_areas,
        "sites": sites,
        "capacity_offers": offers,
        "energy_offers": energy,
        "workloads": workloads,
        "fixed": [],
    }
