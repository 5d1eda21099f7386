"""The market report as PDF: key figures, charts, per-area tables, runs, interventions.

Strings are gettext: rendered inside `translation.override(language)`; IPAexGothic is
embedded so Japanese reads the same anywhere.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Image, KeepTogether, PageBreak, Spacer

from market import calendar
from settlement.documents.pdfbase import (
    build_pdf,
    check_language,
    chunked,
    data_table,
    mm,
    number,
    paragraph,
    styles,
    yen,
)
from settlement.reports import charts
from settlement.reports.types import MarketReport

MAX_INTERVENTIONS = 300


def _opt(value, places: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    return number(value, places) + suffix


def _jpy(value: Decimal | None) -> str:
    return "—" if value is None else yen(int(value.to_integral_value()))


def _chart(png: bytes, width_mm: float = 178) -> Image:
    image = Image(io.BytesIO(png))
    scale = width_mm * mm / image.drawWidth
    image.drawWidth *= scale
    image.drawHeight *= scale
    return image


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "—"
    return _("OK") if value else _("FAILED")


def delivery_text(report: MarketReport) -> str:
    """Delivered vs ordered from the settlement side's meter data, or why there is none."""
    d = report.compliance.delivery
    if not report.compliance.delivery_available or not d:
        return _("no meter data yet")
    if "ordered_cu_h" not in d:  # an unknown shape: show it as it came
        return ", ".join(f"{k}: {v}" for k, v in d.items() if not isinstance(v, dict | list))
    if not d.get("compute_metered") and not d.get("supply_metered"):
        return _("no meter data yet")
    return _(
        "compute %(cu_d)s of %(cu_o)s CU-h (%(cu_s)s shortfalls, %(cu_m)s lines unmetered); "
        "energy %(kwh_d)s of %(kwh_o)s kWh (%(kwh_s)s shortfalls, %(kwh_m)s unmetered)"
    ) % {
        "cu_d": number(Decimal(d["delivered_cu_h"]), 1),
        "cu_o": number(Decimal(d["ordered_cu_h"]), 1),
        "cu_s": d.get("compute_shortfalls", 0),
        "cu_m": d.get("compute_missing", 0),
        "kwh_d": number(Decimal(d["delivered_supply_kwh"]), 1),
        "kwh_o": number(Decimal(d["ordered_supply_kwh"]), 1),
        "kwh_s": d.get("supply_shortfalls", 0),
        "kwh_m": d.get("supply_missing", 0),
    }


def ledger_text(report: MarketReport) -> str:
    ledger = report.ledger
    if not ledger.available:
        return _("not available yet (no settlement)")
    detail = ledger.detail or {}
    if detail.get("error"):
        return _("the check could not run: %(error)s") % {"error": detail["error"]}
    text = _yes_no(ledger.ok)
    if "entries" in detail:
        text += " — " + _("%(entries)s journal entries, balance %(balance)s") % {
            "entries": detail["entries"],
            "balance": yen(int(detail.get("balance_jpy", 0))),
        }
    problems = detail.get("problems") or []
    if problems:
        text += "; " + "; ".join(str(p) for p in problems[:3])
    return text


def key_figures(report: MarketReport) -> list[tuple[str, str]]:
    """(label, value) pairs shown first in the PDF and on the portal page."""
    w, c, comp = report.welfare, report.carbon, report.compliance
    ledger = ledger_text(report)
    audit = (
        _("intact (%(n)d events checked)") % {"n": report.audit.checked}
        if report.audit.ok
        else _("BROKEN at event #%(seq)s: %(reason)s")
        % {"seq": report.audit.first_bad_seq, "reason": report.audit.reason}
    )
    delivery = delivery_text(report)
    checkpoint = report.audit.latest_checkpoint
    anchor = (
        _("#%(seq)s, signed %(at)s JST")
        % {"seq": checkpoint.seq, "at": calendar.to_jst(checkpoint.at).strftime("%Y-%m-%d %H:%M")}
        if checkpoint
        else _("none issued yet")
    )
    return [
        (_("Intervals cleared"), f"{report.intervals_cleared} / {report.intervals_in_period}"),
        (_("Welfare of the firm intervals"), _jpy(w.welfare_jpy)),
        (_("Saving against stay"), _jpy(w.saving_vs_stay_jpy)),
        (_("Saving against greedy"), _jpy(w.saving_vs_greedy_jpy)),
        (_("Curtailment-relief energy absorbed"), _opt(report.curtailment_relief_kwh, 1, " kWh")),
        (_("CO2 of energy used"), _opt(c.co2_t, 4, " t")),
        (_("CO2 under stay"), _opt(c.co2_stay_t, 4, " t")),
        (_("CO2 avoided against stay"), _opt(c.avoided_vs_stay_t, 4, " t")),
        (
            _("CO2 per CU-hour (cleared / stay)"),
            f"{_opt(c.g_per_cu_h, 1)} / {_opt(c.stay_g_per_cu_h, 1)} g",
        ),
        (
            _("Workload CU-hours bid / cleared (ratio)"),
            f"{_opt(report.cu_h_demanded, 1)} / {_opt(report.cu_h_cleared, 1)} CU-h "
            f"({_opt(report.workload_bid_to_clear, 2)})",
        ),
        (
            _("Orders accepted / rejected / pending"),
            _("%(accepted)s / %(rejected)s / %(pending)s (of %(orders)s)")
            % {
                "accepted": comp.accepted,
                "rejected": comp.rejected,
                "pending": comp.pending,
                "orders": comp.orders,
            },
        ),
        (_("Orders flagged unacknowledged"), str(comp.flagged_unacknowledged)),
        (_("Delivered against ordered"), delivery),
        (_("Ledger balance check"), ledger),
        (_("Interventions (re-dispatches, failed runs, takeovers, replays)"), str(len(report.interventions))),
        (_("Audit chain"), audit),
        (_("Latest audit checkpoint"), anchor),
    ]  # fmt: skip


def _head(labels: list[str], st) -> list:
    """Header cells that wrap (narrow numeric columns have long names)."""
    return [paragraph(label, st["head"]) for label in labels]


def _area_tables(report: MarketReport, lang: str, st) -> list:
    active = [a for a in report.areas if a.intervals or a.cu_offered or a.kwh_offered]
    if not active:
        return [paragraph(_("No cleared interval in this period."), st["base"])]
    prices = [
        [
            report.area_name(a.area, lang),
            _opt(a.energy_price_mean, 2),
            f"{_opt(a.energy_price_min, 2)} – {_opt(a.energy_price_max, 2)}",
            _opt(a.compute_price_mean, 2),
            _opt(a.cu_h_offered, 1),
            _opt(a.cu_h_cleared, 1),
            _opt(a.capacity_bid_to_clear, 2),
            _opt(a.kwh_from_offers, 1),
            _opt(a.kwh_from_grid, 1),
            _opt(a.curtailment_relief_kwh, 1),
        ]
        for a in active
    ]
    concentration = [
        [
            report.area_name(a.area, lang),
            _opt(a.hhi_capacity_offered, 0),
            _opt(a.hhi_capacity_cleared, 0),
            _opt(a.hhi_energy_offered, 0),
            _opt(a.hhi_energy_cleared, 0),
            _opt(a.kwh_offered, 1),
            _opt(a.energy_bid_to_clear, 2),
            _opt(a.co2_t, 4),
            _opt(a.co2_stay_t, 4),
        ]
        for a in active
    ]
    price_head = [_("Area"), _("Energy JPY/kWh (mean)"), _("min – max"), _("Compute JPY/CU-h"),
                  _("CU-h offered"), _("CU-h cleared"), _("Bid/clear"), _("kWh offers"),
                  _("kWh grid"), _("Curtailment kWh")]  # fmt: skip
    concentration_head = [_("Area"), _("HHI capacity offered"), _("HHI capacity cleared"),
                          _("HHI energy offered"), _("HHI energy cleared"), _("kWh offered"),
                          _("Energy bid/clear"), _("CO2 t"), _("CO2 t (stay)")]  # fmt: skip
    price_widths = [18, 18, 22, 18, 17, 17, 14, 18, 17, 19]
    concentration_widths = [20, 21, 21, 20, 20, 20, 18, 19, 19]
    return [
        paragraph(_("Prices and volumes per area"), st["h2"]),
        data_table(_head(price_head, st), prices, [w * mm for w in price_widths], numeric_from=1),
        paragraph(_("Concentration (HHI, 0–10,000) and carbon per area"), st["h2"]),
        data_table(
            _head(concentration_head, st),
            concentration,
            [w * mm for w in concentration_widths],
            numeric_from=1,
        ),
    ]


def _runs_table(report: MarketReport, st) -> list:
    """Per run for a day; per JST day for longer periods."""
    if not report.runs:
        return []
    one_day = (report.end - report.start) <= calendar.INTERVAL * calendar.SLOTS_PER_DAY
    groups: dict[str, list] = defaultdict(list)
    for r in report.runs:
        at = calendar.to_jst(r.interval_start)
        # A day's runs by slot as people count them (コマ 1–48) with the JST start.
        slot = calendar.slot_of(r.interval_start)[1]
        groups[f"{slot} · {at:%H:%M}" if one_day else at.strftime("%Y-%m-%d")].append(r)
    rows = []
    for key, runs in groups.items():
        done = [r for r in runs if r.welfare_jpy is not None]
        rows.append(
            [
                key,
                f"{len(done)}/{len(runs)}",
                _jpy(sum((r.welfare_jpy for r in done), Decimal(0))),
                _jpy(sum((r.saving_vs_stay_jpy or 0 for r in done), Decimal(0))),
                _jpy(sum((r.saving_vs_greedy_jpy or 0 for r in done), Decimal(0))),
                str(sum(r.redispatches for r in runs)),
            ]
        )
    title = _("Clearing runs (JST)") if one_day else _("Clearing runs per day (JST)")
    header = [_("Slot") if one_day else _("Day"), _("Completed"), _("Firm welfare"),
              _("vs stay"), _("vs greedy"), _("Re-dispatches")]  # fmt: skip
    widths = [24 * mm, 22 * mm, 36 * mm, 34 * mm, 34 * mm, 24 * mm]
    out = [paragraph(title, st["h2"])]
    out += [data_table(header, part, widths, numeric_from=1) for part in chunked(rows)]
    return out


def _compliance_table(report: MarketReport, st) -> list:
    comp = report.compliance
    rows = [
        [kind, str(c.get("orders", 0)), str(c.get("accepted", 0)), str(c.get("rejected", 0)),
         str(c.get("pending", 0)), str(c.get("flagged", 0))]
        for kind, c in comp.by_kind.items()
    ]  # fmt: skip
    out = [paragraph(_("Dispatch compliance"), st["h2"])]
    if rows:
        out.append(
            data_table(
                [_("Order kind"), _("Orders"), _("Accepted"), _("Rejected"), _("Pending"),
                 _("Flagged")],
                rows,
                [40 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm],
                numeric_from=1,
            )
        )  # fmt: skip
    areas = (comp.delivery or {}).get("areas") if comp.delivery_available else None
    if isinstance(areas, dict) and areas:
        out.append(Spacer(1, 2 * mm))
        out.append(
            data_table(
                _head([_("Area"), _("CU-h ordered"), _("CU-h delivered"), _("Compute shortfalls"),
                       _("kWh ordered"), _("kWh delivered"), _("Supply shortfalls")], st),
                [
                    [report.area_name(area, _lang_of(report)), number(Decimal(b.get("ordered_cu_h", 0)), 1),
                     number(Decimal(b.get("delivered_cu_h", 0)), 1), str(b.get("compute_shortfalls", 0)),
                     number(Decimal(b.get("ordered_supply_kwh", 0)), 1),
                     number(Decimal(b.get("delivered_supply_kwh", 0)), 1),
                     str(b.get("supply_shortfalls", 0))]
                    for area, b in areas.items()
                ],
                [24 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm, 24 * mm],
                numeric_from=1,
            )
        )  # fmt: skip
    if comp.superseded_versions:
        out.append(
            paragraph(
                _("%(n)d order versions were superseded by re-dispatch.")
                % {"n": comp.superseded_versions},
                st["small"],
            )
        )
    return out


def _lang_of(_report: MarketReport) -> str:
    return "ja" if (translation.get_language() or "").startswith("ja") else "en"


def _interventions_table(report: MarketReport, st) -> list:
    out = [paragraph(_("Re-dispatches and other interventions"), st["h2"])]
    if not report.interventions:
        return [*out, paragraph(_("None in this period."), st["base"])]
    rows = [
        [
            calendar.to_jst(i.interval_start).strftime("%Y-%m-%d %H:%M"),
            i.kind_label,
            paragraph(i.summary, st["cell"]),
            i.actor,
        ]
        for i in report.interventions[:MAX_INTERVENTIONS]
    ]
    widths = [30 * mm, 26 * mm, 90 * mm, 32 * mm]
    out += [
        data_table([_("Interval (JST)"), _("Kind"), _("What"), _("By")], part, widths,
                   numeric_from=9)
        for part in chunked(rows)
    ]  # fmt: skip
    if len(report.interventions) > MAX_INTERVENTIONS:
        out.append(
            paragraph(
                _("… and %(n)d more (see the CSV or JSON report).")
                % {"n": len(report.interventions) - MAX_INTERVENTIONS},
                st["small"],
            )
        )
    return out


def _checkpoint_section(report: MarketReport, st) -> list:
    """The newest signed checkpoint, as a token to keep (the JSON and CSV hold them all).

    Broken after each dot so that it fits the page; `verify_audit_chain --checkpoint`
    ignores whitespace after a dot, so the copied lines parse as they are.
    """
    checkpoint = report.audit.latest_checkpoint
    if checkpoint is None:
        return []
    head, seq, at, head_hash, kid, signature = checkpoint.token.split(".")
    mono = ParagraphStyle("mono", parent=st["small"], fontName="Courier", wordWrap=None)
    return [
        paragraph(_("Audit chain checkpoint"), st["h2"]),
        paragraph(
            _("Keep this token. manage.py verify_audit_chain --checkpoint TOKEN proves that the "
              "audit chain still holds every event up to #%(seq)s, unchanged; a chain that was "
              "cut short or rewritten fails.") % {"seq": checkpoint.seq},
            st["small"],
        ),
        paragraph(f"{head}.{seq}.{at}.\n{head_hash}.\n{kid}.{signature}", mono),
    ]  # fmt: skip


def _method(st) -> list:
    notes = [
        _("Welfare is each run's objective over its horizon as recorded at clearing; savings are "
          "the differences to the stay and greedy baselines on the same snapshot, summed over runs."),
        _("CO2: energy taken from offers at their declared intensity plus grid energy at the "
          "area intensity of the interval; stay: the stay baseline's firm-interval allocation "
          "of the same snapshot on grid energy."),
        _("HHI: Σ (100 × share)² over organisations of the quantity summed over the period; "
          "above 1,800 is highly concentrated."),
        _("Bid-to-clear: quantity offered (or demanded) per unit cleared in the firm intervals."),
    ]  # fmt: skip
    return [paragraph(_("Method"), st["h2"]), *(paragraph(n, st["small"]) for n in notes)]


def render_report_pdf(report: MarketReport, language: str = "ja") -> bytes:
    lang = check_language(language)
    with translation.override(lang):
        st = styles()
        st["head"] = ParagraphStyle(
            "head",
            parent=st["cell"],
            fontSize=7,
            leading=8.5,
            wordWrap="CJK" if lang == "ja" else None,
        )
        generated = calendar.to_jst(report.generated_at).strftime("%Y-%m-%d %H:%M")
        title = _("Market report %(period)s") % {"period": report.period}
        story: list = [
            paragraph(title, st["title"]),
            paragraph(
                _("Firm intervals from %(start)s to %(end)s JST; generated %(at)s JST.")
                % {
                    "start": calendar.to_jst(report.start).strftime("%Y-%m-%d %H:%M"),
                    "end": calendar.to_jst(report.end).strftime("%Y-%m-%d %H:%M"),
                    "at": generated,
                },
                st["base"],
            ),
            Spacer(1, 3 * mm),
            data_table(
                [_("Figure"), _("Value")],
                [[label, paragraph(value, st["cell"])] for label, value in key_figures(report)],
                [90 * mm, 88 * mm],
                numeric_from=9,
            ),
            PageBreak(),
            KeepTogether([paragraph(_("Charts"), st["h2"]), _chart(charts.prices_chart(report))]),
            Spacer(1, 3 * mm),
            _chart(charts.volumes_chart(report)),
            Spacer(1, 3 * mm),
            _chart(charts.savings_chart(report)),
            PageBreak(),
            *_area_tables(report, lang, st),
            *_compliance_table(report, st),
            *_runs_table(report, st),
            *_interventions_table(report, st),
            *_checkpoint_section(report, st),
            *_method(st),
        ]
        footer = f"wattbit — {title}"
        return build_pdf(story, title=title, footer=footer)
