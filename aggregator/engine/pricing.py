"""Locational prices from LP duals, and the dual-bound certificate that they are optimal."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.engine.feasibility import Indexed
from aggregator.engine.model import Model
from aggregator.engine.snapshot import Snapshot


@dataclass(frozen=True)
class Prices:
    compute: np.ndarray  # S × T, JPY per CU-hour (NaN where the site offers nothing)
    energy: np.ndarray  # A × T, JPY per kWh consumed (balance + cap shadow)
    balance: np.ndarray  # A × T, JPY per kWh paid to suppliers
    cap_rent: np.ndarray  # A × T, JPY per kWh of a binding area cap


def from_duals(snap: Snapshot, idx: Indexed, model: Model, row_dual: np.ndarray) -> Prices:
    """HiGHS row duals are d(min cost)/d(bound); the welfare shadow value is their negative."""
    n_t, n_a = snap.n_intervals, len(snap.areas)
    shadow = np.zeros(idx.offer_cu.size)
    rows = model.cap_row0 + np.arange(len(model.cap_rows))
    # Capacity rows are in JPY per CU-interval; prices are per CU-hour.
    shadow[model.cap_rows] = np.maximum(-row_dual[rows], 0.0) / snap.hours
    compute = idx.x_price + shadow.reshape(idx.offer_cu.shape)
    # A step row (Σ x − Σ q ≤ 0) carries no price on x: its dual is the price of one more CU
    # at the site itself — the marginal step's price, plus scarcity once every step is full.
    # Where nothing sold there that dual is degenerate anywhere up to the cheapest step;
    # the first CU costs that step's price, as on a single-offer site (raising an idle row's
    # dual to it keeps every reduced cost's sign, so the certificate is unchanged).
    compute = np.where(idx.multi, np.maximum(compute, idx.first_price), compute)
    compute = np.where(idx.offer_cu > 0, compute, np.nan)
    balance = -row_dual[model.balance_row0 : model.balance_row0 + n_a * n_t]
    rent = np.zeros(n_a * n_t)
    ac = model.area_cap_row0 + np.arange(len(model.area_cap_rows))
    rent[model.area_cap_rows] = np.maximum(-row_dual[ac], 0.0)
    balance = balance.reshape(n_a, n_t)
    rent = rent.reshape(n_a, n_t)
    return Prices(compute=compute, energy=balance + rent, balance=balance, cap_rent=rent)


def dual_bound(model: Model, row_dual: np.ndarray, cost: np.ndarray | None = None) -> float:
    """Lagrangian bound D(y) = min over the boxes of (c − Aᵀy)ᵀv + yᵀz, z ∈ [row_lo, row_hi].

    Equal to the primal optimum exactly when y is an optimal dual (price) vector, so anyone
    can certify the published prices without trusting the solver (SOLVER_NOTES.md).
    """
    c = model.cost if cost is None else cost
    reduced = c - model.matrix.T @ row_dual
    tol = 1e-7
    reduced = np.where(np.abs(reduced) < tol, 0.0, reduced)
    col = np.where(reduced >= 0, _times(reduced, model.col_lo), _times(reduced, model.col_hi))
    y = np.where(np.abs(row_dual) < tol, 0.0, row_dual)
    row = np.where(y >= 0, _times(y, model.row_lo), _times(y, model.row_hi))
    return float(np.sum(col) + np.sum(row))


def _times(a: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """a·bound with 0·∞ = 0 (an infinite bound only matters where its multiplier is non-zero)."""
    with np.errstate(invalid="ignore"):
        out = a * bound
    return np.where(a == 0, 0.0, out)
