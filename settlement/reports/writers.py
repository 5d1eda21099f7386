"""The market report as JSON (`wattbit.market-report/2`) and as one long-format CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from aggregator.platform.wire import wire_decimal, wire_instant
from market import calendar
from settlement.reports.types import MarketReport

# /2: instants in JST (+09:00) and every figure a decimal string, as the whole API writes
# them (docs/api.md); /1 wrote UTC `Z` and bare floats for ratios, HHI and tonnes.
SCHEMA = "wattbit.market-report/2"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)  # exact, as the ledger and audit chain write money
    if isinstance(value, datetime):
        return wire_instant(value)
    if isinstance(value, float):
        return wire_decimal(round(value, 6))
    return value


def report_dict(report: MarketReport) -> dict[str, Any]:
    """Every field of the report plus the derived figures (savings, CO2 avoided)."""
    data = asdict(report)
    data["schema"] = SCHEMA
    for row, run in zip(data["runs"], report.runs, strict=True):
        row["saving_vs_stay_jpy"] = run.saving_vs_stay_jpy
        row["saving_vs_greedy_jpy"] = run.saving_vs_greedy_jpy
    # Volumes in CU-hours, the unit of the page and its charts (cu_* are CU × intervals).
    data.update(cu_h_demanded=report.cu_h_demanded, cu_h_cleared=report.cu_h_cleared)
    data["carbon"].update(
        avoided_vs_stay_t=report.carbon.avoided_vs_stay_t,
        g_per_cu_h=report.carbon.g_per_cu_h,
        stay_g_per_cu_h=report.carbon.stay_g_per_cu_h,
    )
    return _plain(data)


def render_json(report: MarketReport) -> bytes:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=1).encode("utf-8")


CSV_HEADER = ("section", "interval_start_jst", "area", "metric", "value", "unit")

_AREA_METRICS = (
    ("energy_price_mean", "JPY/kWh"),
    ("energy_price_min", "JPY/kWh"),
    ("energy_price_max", "JPY/kWh"),
    ("compute_price_mean", "JPY/CU-h"),
    ("cu_offered", "CU"),
    ("cu_cleared", "CU"),
    ("cu_h_cleared", "CU-h"),
    ("kwh_offered", "kWh"),
    ("kwh_from_offers", "kWh"),
    ("kwh_from_grid", "kWh"),
    ("curtailment_relief_kwh", "kWh"),
    ("capacity_bid_to_clear", "ratio"),
    ("energy_bid_to_clear", "ratio"),
    ("hhi_capacity_offered", "HHI"),
    ("hhi_capacity_cleared", "HHI"),
    ("hhi_energy_offered", "HHI"),
    ("hhi_energy_cleared", "HHI"),
    ("co2_t", "t"),
    ("co2_stay_t", "t"),
)


def _jst(value: datetime | None) -> str:
    return calendar.to_jst(value).isoformat() if value else ""


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def render_csv(report: MarketReport) -> bytes:
    """One row per figure: (section, interval, area, metric, value, unit); UTF-8 with BOM.

    Long format so one file holds the summary, the per-area and per-interval figures, the
    runs and the interventions, and a spreadsheet can pivot it.
    """
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\r\n")
    w.writerow(CSV_HEADER)

    def row(section, at, area, metric, value, unit=""):
        w.writerow((section, _jst(at), area, metric, _csv_value(value), unit))

    c, wf = report.carbon, report.welfare
    summary = [
        ("period", report.period, ""),
        ("intervals_in_period", report.intervals_in_period, "intervals"),
        ("intervals_cleared", report.intervals_cleared, "intervals"),
        ("welfare_jpy", wf.welfare_jpy, "JPY"),
        ("stay_welfare_jpy", wf.stay_welfare_jpy, "JPY"),
        ("greedy_welfare_jpy", wf.greedy_welfare_jpy, "JPY"),
        ("saving_vs_stay_jpy", wf.saving_vs_stay_jpy, "JPY"),
        ("saving_vs_greedy_jpy", wf.saving_vs_greedy_jpy, "JPY"),
        ("curtailment_relief_kwh", report.curtailment_relief_kwh, "kWh"),
        ("co2_t", c.co2_t, "t"),
        ("co2_stay_t", c.co2_stay_t, "t"),
        ("co2_avoided_vs_stay_t", c.avoided_vs_stay_t, "t"),
        ("co2_g_per_cu_h", c.g_per_cu_h, "g/CU-h"),
        ("co2_stay_g_per_cu_h", c.stay_g_per_cu_h, "g/CU-h"),
        ("cu_h_demanded", report.cu_h_demanded, "CU-h"),
        ("cu_h_cleared", report.cu_h_cleared, "CU-h"),
        ("workload_bid_to_clear", report.workload_bid_to_clear, "ratio"),
        ("orders", report.compliance.orders, "orders"),
        ("orders_accepted", report.compliance.accepted, "orders"),
        ("orders_rejected", report.compliance.rejected, "orders"),
        ("orders_pending", report.compliance.pending, "orders"),
        ("orders_flagged_unacknowledged", report.compliance.flagged_unacknowledged, "orders"),
        ("order_versions_superseded", report.compliance.superseded_versions, "orders"),
        ("ledger_available", report.ledger.available, ""),
        ("ledger_ok", report.ledger.ok, ""),
        ("audit_chain_ok", report.audit.ok, ""),
        ("audit_events_checked", report.audit.checked, "events"),
        ("audit_first_bad_seq", report.audit.first_bad_seq, ""),
        ("audit_checkpoints", len(report.audit.checkpoints), "checkpoints"),
    ]
    for metric, value, unit in summary:
        row("summary", None, "", metric, value, unit)
    if report.compliance.delivery:
        for key, value in sorted(report.compliance.delivery.items()):
            if not isinstance(value, dict | list):
                row("delivery", None, "", key, value)
    for a in report.areas:
        for metric, unit in _AREA_METRICS:
            row("area", None, a.area, metric, getattr(a, metric), unit)
    for r in report.area_intervals:
        row("interval", r.interval_start, r.area, "energy_jpy_per_kwh", r.energy_jpy_per_kwh, "JPY/kWh")  # fmt: skip
        row("interval", r.interval_start, r.area, "compute_jpy_per_cu_h", r.compute_jpy_per_cu_h, "JPY/CU-h")  # fmt: skip
        row("interval", r.interval_start, r.area, "cu_cleared", r.cu_cleared, "CU")
        row("interval", r.interval_start, r.area, "kwh_from_offers", r.kwh_from_offers, "kWh")
        row("interval", r.interval_start, r.area, "kwh_from_grid", r.kwh_from_grid, "kWh")
    for run in report.runs:
        row("run", run.interval_start, "", "status", run.status)
        row("run", run.interval_start, "", "welfare_jpy", run.welfare_jpy, "JPY")
        row("run", run.interval_start, "", "saving_vs_stay_jpy", run.saving_vs_stay_jpy, "JPY")
        row("run", run.interval_start, "", "saving_vs_greedy_jpy", run.saving_vs_greedy_jpy, "JPY")  # fmt: skip
        row("run", run.interval_start, "", "redispatches", run.redispatches)
    for i in report.interventions:
        row("intervention", i.interval_start, "", i.kind, i.summary)
    # One row per signed checkpoint; its token is what verify_audit_chain --checkpoint takes.
    for cp in report.audit.checkpoints:
        row("audit_checkpoint", cp.at, "", "token", cp.token)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
