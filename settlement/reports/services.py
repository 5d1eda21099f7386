"""Produce a market report file: period → figures → JSON, CSV or PDF bytes.

The one entry point for the command, the REST endpoint and the portal. Reading a report
is audited by the callers that act for someone (`report_read_audit`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.errors import Forbidden, InvalidInput
from operators.actors import Actor
from settlement.choices import SettlementAudit
from settlement.reports.builder import Progress, build_market_report
from settlement.reports.periods import Period
from settlement.reports.types import MarketReport

FORMATS = ("json", "csv", "pdf")
LANGUAGES = ("ja", "en")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class ReportFile:
    content: bytes
    content_type: str
    filename: str


def check_format(fmt: str, language: str = "ja") -> None:
    errors = {}
    if fmt not in FORMATS:
        errors["format"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(FORMATS)}]
    if language not in LANGUAGES:
        errors["lang"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(LANGUAGES)}]
    if errors:
        raise InvalidInput.from_errors(errors)


def can_read_reports(actor: Actor) -> bool:
    """Regulators and the market operator read market reports; participants do not."""
    return actor.oversees_market


def render_report(report: MarketReport, *, fmt: str, language: str = "ja") -> ReportFile:
    check_format(fmt, language)
    if fmt == "json":
        from settlement.reports.writers import render_json

        content = render_json(report)
    elif fmt == "csv":
        from settlement.reports.writers import render_csv

        content = render_csv(report)
    else:
        from settlement.reports.pdf import render_report_pdf  # matplotlib: load only for PDFs

        content = render_report_pdf(report, language)
    suffix = f"-{language}" if fmt == "pdf" else ""
    return ReportFile(content, CONTENT_TYPES[fmt], f"market-report-{report.period}{suffix}.{fmt}")


def market_report_file(
    *, period: Period, fmt: str, language: str = "ja", progress: Progress | None = None
) -> ReportFile:
    check_format(fmt, language)
    report = build_market_report(
        start=period.start, end=period.end, period=period.label, progress=progress
    )
    return render_report(report, fmt=fmt, language=language)


def report_read_audit(*, actor: Actor, period: Period, fmt: str, channel: str) -> None:
    """Every regulator read is on the audit chain (what, which period, through what)."""
    if not can_read_reports(actor):
        raise Forbidden(_("Market reports are for regulators and the market operator."))
    audit_record(
        code=SettlementAudit.REPORT_READ,
        actor_label=actor.label,
        actor_user=actor.user,
        organisation=actor.organisation,
        object_type="settlement.market_report",
        object_id=period.label,
        payload={"period": period.label, "format": fmt, "channel": channel},
    )
