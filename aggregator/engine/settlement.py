"""What everyone pays and receives at the published (rounded) prices, and the uplift."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aggregator.engine.feasibility import Indexed
from aggregator.engine.model import eo_area
from aggregator.engine.snapshot import Snapshot

# A bid is only "broken" by more than float noise; the make-whole is rounded *up* to the yen
# cent so that, after uplift, nobody is ever below its bid.
_NOISE_JPY = 1e-6


@dataclass(frozen=True)
class Cleared:
    """Published quantities (already rounded) as index arrays."""

    j: np.ndarray
    s: np.ndarray
    t: np.ndarray
    cu: np.ndarray
    offer: np.ndarray
    offer_t: np.ndarray
    offer_kwh: np.ndarray
    grid_kwh: np.ndarray  # A × T
    capacity_cu: np.ndarray  # O × T, CU sold per capacity offer (steps filled cheapest first)
    compute_price: np.ndarray  # S × T
    energy_price: np.ndarray  # A × T
    balance_price: np.ndarray  # A × T
    cap_rent: np.ndarray  # A × T


def _make_whole(shortfall: float) -> float:
    return math.ceil(shortfall * 100 - 1e-7) / 100 if shortfall > _NOISE_JPY else 0.0


def settle(snap: Snapshot, idx: Indexed, c: Cleared) -> tuple[list[dict], dict]:
    """Uplift per participant over the firm intervals (what settlement pays: advisory
    intervals are cleared again by the next rolling run), and the horizon's money totals."""
    h = snap.hours
    n_w = len(snap.workloads)
    area = idx.site_area[c.s]
    kw = idx.site_kwh_per_cu[c.s] / h  # kW drawn per CU incl. PUE
    all_in = c.compute_price[c.s, c.t] + c.energy_price[area, c.t] * kw
    pay_each = all_in * c.cu * h
    value_each = idx.limit[c.j, c.t] * c.cu * h
    pay = np.bincount(c.j, weights=pay_each, minlength=n_w)
    firm = c.t < snap.firm_intervals
    firm_short = np.bincount(c.j[firm], weights=(pay_each - value_each)[firm], minlength=n_w)
    horizon_short = pay - np.bincount(c.j, weights=value_each, minlength=n_w)

    uplift: list[dict] = []
    horizon_total = 0.0
    for i, w in enumerate(snap.workloads):
        horizon_total += _make_whole(horizon_short[i])
        amount = _make_whole(firm_short[i])
        if amount:
            uplift.append({"participant": w.id, "jpy": amount})
    in_firm = np.arange(snap.n_intervals) < snap.firm_intervals
    provider_in = 0.0
    for o, offer in enumerate(snap.capacity_offers):
        # Each step is paid the site's price on its own quantity, and made whole against its
        # own price: a second offer at the site changes neither.
        si = idx.step_site[o]
        sold = c.capacity_cu[o]
        got_t = np.where(sold > 0, c.compute_price[si], 0.0) * sold * h
        got_t = np.nan_to_num(got_t)
        provider_in += float(np.sum(got_t))
        short_t = offer.price * sold * h - got_t
        horizon_total += _make_whole(float(np.sum(short_t)))
        amount = _make_whole(float(np.sum(short_t[in_firm])))
        if amount:
            uplift.append({"participant": offer.id, "jpy": amount})
    offer_area = eo_area(snap, c.offer)
    supplier_in = 0.0
    for o, offer in enumerate(snap.energy_offers):
        sel = c.offer == o
        kwh, t = c.offer_kwh[sel], c.offer_t[sel]
        # Suppliers get the balance price net of the carbon charge on their own energy (the
        # market remits that charge, like the grid's, to the carbon account).
        carbon_charge = snap.carbon_price_jpy_per_t * offer.carbon[t] / 1e6
        got_each = (c.balance_price[offer_area[sel], t] - carbon_charge) * kwh
        supplier_in += float(np.sum(got_each))
        short_each = offer.price[t] * kwh - got_each
        horizon_total += _make_whole(float(np.sum(short_each)))
        amount = _make_whole(float(np.sum(short_each[t < snap.firm_intervals])))
        if amount:
            uplift.append({"participant": offer.id, "jpy": amount})

    grid_price = np.array([a.price for a in snap.areas]).reshape(len(snap.areas), -1)
    grid_carbon = np.array([a.carbon for a in snap.areas]).reshape(len(snap.areas), -1)
    offer_carbon = np.array(
        [snap.energy_offers[o].carbon[t] for o, t in zip(c.offer, c.offer_t, strict=True)]
    )
    carbon_t = float(np.sum(grid_carbon * c.grid_kwh) + np.sum(offer_carbon * c.offer_kwh)) / 1e6
    load = np.zeros_like(c.grid_kwh)
    np.add.at(load, (area, c.t), c.cu * kw * h)
    uplift_total = sum(u["jpy"] for u in uplift)
    summary = {
        "payments_in_jpy": float(np.sum(pay)),
        "compute_paid_jpy": provider_in,
        "energy_offers_paid_jpy": supplier_in,
        "grid_paid_jpy": float(np.sum(grid_price * c.grid_kwh)),
        "carbon_paid_jpy": carbon_t * snap.carbon_price_jpy_per_t,
        "congestion_rent_jpy": float(np.sum(c.cap_rent * load)),
        "uplift_jpy": uplift_total,
        # What the whole horizon would owe at these prices (information: only the firm
        # intervals are settled, `uplift`; advisory ones are priced again by the next run).
        "uplift_horizon_jpy": horizon_total,
    }
    out = (
        summary["compute_paid_jpy"]
        + summary["energy_offers_paid_jpy"]
        + summary["grid_paid_jpy"]
        + summary["carbon_paid_jpy"]
        + uplift_total
    )
    summary["payments_out_jpy"] = out
    return sorted(uplift, key=lambda u: u["participant"]), summary
