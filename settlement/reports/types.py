"""The regulator's market report as plain data: built once, written as JSON, CSV or PDF.

Quantities are `Decimal` (CU, kWh, JPY) or `float` for derived ratios and tonnes; times
are aware UTC datetimes (writers show JST). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from market import calendar


@dataclass(frozen=True)
class AreaInterval:
    """Cleared outcome of one area in one firm interval (public aggregates)."""

    interval_start: datetime
    area: str
    energy_jpy_per_kwh: Decimal | None
    compute_jpy_per_cu_h: Decimal | None  # CU-weighted over the area's sites
    cu_cleared: Decimal
    kwh_from_offers: Decimal
    kwh_from_grid: Decimal


@dataclass(frozen=True)
class AreaSummary:
    """One area over the whole period."""

    area: str
    intervals: int
    energy_price_mean: Decimal | None  # simple mean over cleared intervals, JPY/kWh
    energy_price_min: Decimal | None
    energy_price_max: Decimal | None
    compute_price_mean: Decimal | None  # CU-weighted, JPY/CU-h
    cu_offered: Decimal  # Σ over intervals of CU offered at the area's sites
    cu_cleared: Decimal
    cu_h_cleared: Decimal
    kwh_offered: Decimal  # energy offers in the area
    kwh_from_offers: Decimal
    kwh_from_grid: Decimal
    curtailment_relief_kwh: Decimal
    capacity_bid_to_clear: float | None  # CU offered / CU cleared
    energy_bid_to_clear: float | None  # kWh offered / kWh taken from offers
    hhi_capacity_offered: float | None  # 0 … 10,000 over organisations
    hhi_capacity_cleared: float | None
    hhi_energy_offered: float | None
    hhi_energy_cleared: float | None
    co2_t: float  # from the energy actually used (offers + grid)
    co2_stay_t: float  # the same sites' energy under the *stay* baseline (grid only)

    @property
    def cu_h_offered(self) -> Decimal:
        """CU offered over the period in CU-hours, the unit `cu_h_cleared` is in."""
        return self.cu_offered * Decimal(calendar.INTERVAL_MINUTES) / 60


@dataclass(frozen=True)
class RunRow:
    interval_start: datetime
    run_id: int
    status: str
    attempts: int
    # Welfare of the run's firm interval (not its stored horizon welfare): of the clearing
    # and of the baselines on its snapshot; None until the run completed.
    welfare_jpy: Decimal | None
    stay_welfare_jpy: Decimal | None
    greedy_welfare_jpy: Decimal | None
    redispatches: int
    fallback: str = ""  # why the engine published its time-budget fallback ("" if exact)

    @property
    def saving_vs_stay_jpy(self) -> Decimal | None:
        if self.welfare_jpy is None or self.stay_welfare_jpy is None:
            return None
        return self.welfare_jpy - self.stay_welfare_jpy

    @property
    def saving_vs_greedy_jpy(self) -> Decimal | None:
        if self.welfare_jpy is None or self.greedy_welfare_jpy is None:
            return None
        return self.welfare_jpy - self.greedy_welfare_jpy


@dataclass(frozen=True)
class WelfareTotals:
    """Welfare of the period's firm intervals (each run's first interval, once), of the
    clearing and of the baselines on the same snapshots (see docs/reports.md)."""

    welfare_jpy: Decimal
    stay_welfare_jpy: Decimal
    greedy_welfare_jpy: Decimal
    saving_vs_stay_jpy: Decimal
    saving_vs_greedy_jpy: Decimal


@dataclass(frozen=True)
class Carbon:
    """CO2 of the firm intervals' energy, cleared vs the *stay* baseline of the same runs.

    Cleared work may exceed what *stay* serves, so intensities per CU-hour are given too.
    """

    co2_t: float
    co2_stay_t: float
    cu_h: Decimal  # CU-hours cleared
    cu_h_stay: Decimal  # CU-hours the stay baseline would have served

    @property
    def avoided_vs_stay_t(self) -> float:
        return self.co2_stay_t - self.co2_t

    @property
    def g_per_cu_h(self) -> float | None:
        return self.co2_t * 1e6 / float(self.cu_h) if self.cu_h else None

    @property
    def stay_g_per_cu_h(self) -> float | None:
        return self.co2_stay_t * 1e6 / float(self.cu_h_stay) if self.cu_h_stay else None


@dataclass(frozen=True)
class Compliance:
    """Dispatch orders of the period (current versions) and, once metered, deliveries."""

    orders: int
    accepted: int
    rejected: int
    pending: int
    flagged_unacknowledged: int
    superseded_versions: int
    by_kind: dict[str, dict[str, int]]
    delivery_available: bool
    delivery: dict[str, Any] | None  # from settlement.selectors.delivery_compliance


@dataclass(frozen=True)
class LedgerStatus:
    available: bool
    ok: bool | None
    detail: dict[str, Any] | None


# What a reader sees for each kind of intervention (the code stays in JSON and CSV).
INTERVENTION_LABELS = {
    "redispatch": _("Re-dispatch"),
    "run_pending": _("Run not finished"),
    "run_running": _("Run not finished"),
    "run_failed": _("Run failed"),
    "run_takeover": _("Run taken over by another worker"),
    "fallback": _("Fallback result (time budget)"),
    "replay": _("Replay check"),
}


@dataclass(frozen=True)
class Intervention:
    interval_start: datetime
    kind: str  # redispatch | run_failed | run_takeover | fallback | replay
    summary: str
    at: datetime | None
    actor: str = ""

    @property
    def kind_label(self) -> str:
        """The kind in the reader's language, never its code."""
        return str(INTERVENTION_LABELS.get(self.kind, self.kind))


@dataclass(frozen=True)
class AuditCheckpointRow:
    """A signed checkpoint of the audit chain (aggregator.platform.audit_checkpoints), as printed.

    Regulators keep `token`; `verify_audit_chain --checkpoint` takes it (or this report's
    JSON or CSV) and proves the chain still holds every event up to `seq`, unchanged.
    """

    seq: int
    head_hash: str
    at: datetime
    key_id: str
    signature: str
    token: str


@dataclass(frozen=True)
class AuditStatus:
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str
    # Issued in the period, plus the newest one at generation time (last, highest seq).
    checkpoints: list[AuditCheckpointRow] = field(default_factory=list)

    @property
    def latest_checkpoint(self) -> AuditCheckpointRow | None:
        return self.checkpoints[-1] if self.checkpoints else None


@dataclass(frozen=True)
class MarketReport:
    period: str  # "2030-04-01" or "2030-04"
    start: datetime
    end: datetime
    generated_at: datetime
    intervals_in_period: int
    intervals_cleared: int
    runs: list[RunRow]
    area_intervals: list[AreaInterval]
    areas: list[AreaSummary]
    welfare: WelfareTotals
    curtailment_relief_kwh: Decimal
    carbon: Carbon
    cu_demanded: Decimal  # workload CU bid, summed over the firm intervals (CU × intervals)
    cu_cleared: Decimal  # … and cleared; see cu_h_* for the same in CU-hours
    workload_bid_to_clear: float | None
    compliance: Compliance
    ledger: LedgerStatus
    interventions: list[Intervention]
    audit: AuditStatus
    notes: list[str] = field(default_factory=list)
    area_names: dict[str, dict[str, str]] = field(default_factory=dict)  # code → {ja, en}

    def area_name(self, code: str, language: str) -> str:
        return self.area_names.get(code, {}).get(language, code)

    @property
    def cu_h_demanded(self) -> Decimal:
        """Workload CU-hours bid in the firm intervals: what people and the charts read."""
        return self.cu_demanded * Decimal(calendar.INTERVAL_MINUTES) / 60

    @property
    def cu_h_cleared(self) -> Decimal:
        return self.cu_cleared * Decimal(calendar.INTERVAL_MINUTES) / 60
