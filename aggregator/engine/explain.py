"""`explain(snapshot)`: model size, feasible triples per workload, and who cannot be hosted."""

from __future__ import annotations

from typing import Any

import numpy as np

from aggregator.engine.feasibility import FILTERS, feasible_triples, index, pair_masks
from aggregator.engine.model import build
from aggregator.engine.snapshot import Snapshot, Workload


def _reason(w: Workload, failed: str) -> str:
    return {
        "accelerator": f"no site has accelerator {w.accelerator!r}",
        "residency": f"no such site has every residency tag {list(w.residency)}",
        "areas": f"no such site lies in the allowed areas {list(w.areas or ())}",
        "latency": f"no such site is within {w.max_latency_ms} ms of zone {w.zone!r}",
        "capacity_offer": "no such site has a capacity offer",
        "window": "no interval where it may run (window, demand or remaining work) meets a "
        "capacity offer at such a site",
    }[failed]


def explain(snap: Snapshot) -> dict[str, Any]:
    idx = index(snap)
    masks = pair_masks(snap, idx)
    tri = feasible_triples(snap, idx)
    model = build(snap, idx, tri)
    per_workload = np.bincount(tri.j, minlength=len(snap.workloads))
    sites_per = [len(set(tri.s[tri.j == i].tolist())) for i in range(len(snap.workloads))]
    workloads, unservable = [], []
    for i, w in enumerate(snap.workloads):
        workloads.append(
            {
                "id": w.id,
                "kind": w.kind,
                "feasible_triples": int(per_workload[i]),
                "feasible_sites": sites_per[i],
            }
        )
        if per_workload[i]:
            continue
        alive = np.ones(len(snap.sites), dtype=bool)
        failed = "window"
        for name in FILTERS:
            alive &= masks[name][i]
            if not alive.any():
                failed = name
                break
        unservable.append({"id": w.id, "filter": failed, "reason": _reason(w, failed)})
    return {
        "run_id": snap.run_id,
        "input_sha256": snap.input_sha256,
        "intervals": snap.n_intervals,
        "sites": len(snap.sites),
        "workloads": len(snap.workloads),
        "feasible_triples": len(tri),
        "dense_product": len(snap.workloads) * len(snap.sites) * snap.n_intervals,
        "model": {
            "problem": "MIP" if model.integer.any() else "LP",
            "variables": model.n_col,
            "integer_variables": int(model.integer.sum()),
            "constraints": model.n_row,
            "nonzeros": int(model.matrix.nnz),
            "constraints_by_kind": model.row_kind_counts,
            # Interchangeable inference workloads modelled as classes (classes.py).
            "inference_classes": model.classes.n_classes,
            "workloads_in_classes": int((model.classes.of_workload >= 0).sum()),
            # Sites with several capacity offers: one step column per offer-interval.
            "capacity_steps": model.n_q,
            "sites_with_steps": int(idx.multi.any(axis=1).sum()),
        },
        "per_workload": workloads,
        "unservable": unservable,
    }
