"""Typed, validated form of a `wattbit.clearing/1` snapshot (per-interval arrays expanded)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SCHEMA = "wattbit.clearing/1"
RESULT_SCHEMA = "wattbit.clearing-result/1"


@dataclass(frozen=True)
class Area:
    id: str
    price: np.ndarray  # JPY/kWh per interval
    carbon: np.ndarray  # gCO2/kWh per interval
    cap_kw: np.ndarray  # kW per interval, +inf where no cap


@dataclass(frozen=True)
class Site:
    id: str
    area: str
    accelerator: str
    kw_per_cu: float
    pue: float
    latency_ms: dict[str, float]
    residency: tuple[str, ...]


@dataclass(frozen=True)
class CapacityOffer:
    id: str
    site: str
    cu: np.ndarray  # CU per interval
    price: np.ndarray  # JPY per CU-hour per interval


@dataclass(frozen=True)
class EnergyOffer:
    id: str
    area: str
    kwh: np.ndarray  # kWh per interval
    price: np.ndarray  # JPY/kWh per interval (may be negative: curtailment relief)
    carbon: np.ndarray  # gCO2/kWh per interval
    curtailment_relief: bool


@dataclass(frozen=True)
class Workload:
    id: str
    kind: str  # "inference" | "batch"
    accelerator: str
    limit_price: np.ndarray  # JPY per CU-hour all-in, per interval
    demand: np.ndarray | None  # inference: CU per interval
    remaining_cu_intervals: float | None  # batch
    earliest: int  # batch window (inclusive); inference: 0
    deadline: int  # inclusive; may lie past the horizon
    max_cu: float | None
    gang: int | None
    migration_cost: float  # JPY per CU added at a non-home site
    home_site: str | None
    zone: str | None
    max_latency_ms: float | None
    residency: tuple[str, ...]
    areas: tuple[str, ...] | None
    # Once it runs at a site within the horizon it stays there (may pause, not move); a pin
    # with CU counts as running there.
    no_migration: bool = False


@dataclass(frozen=True)
class Pin:
    workload: str
    site: str
    interval: int
    cu: float


@dataclass(frozen=True)
class Snapshot:
    """One clearing run's frozen input. Entity tuples are sorted by id (canonical order)."""

    run_id: str
    interval_minutes: float
    intervals: tuple[str, ...]
    firm_intervals: int
    carbon_price_jpy_per_t: float
    areas: tuple[Area, ...]
    sites: tuple[Site, ...]
    capacity_offers: tuple[CapacityOffer, ...]
    energy_offers: tuple[EnergyOffer, ...]
    workloads: tuple[Workload, ...]
    fixed: tuple[Pin, ...]
    input_sha256: str = ""
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_intervals(self) -> int:
        return len(self.intervals)

    @property
    def hours(self) -> float:
        """Length of one interval in hours."""
        return self.interval_minutes / 60.0

    @property
    def has_gang(self) -> bool:
        return any(w.gang for w in self.workloads)
