"""Report charts as PNG bytes (matplotlib, Agg, IPAexGothic so Japanese labels render).

Chart labels are gettext strings: call inside `translation.override(language)`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from matplotlib.ticker import FuncFormatter

from market import calendar
from settlement.documents.fonts import matplotlib_font
from settlement.reports.types import MarketReport

SIZE = (8.0, 3.4)  # inches; 170 mm wide in the PDF
DPI = 130
COLOURS = ["#1f6fb2", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c",
           "#5c940d", "#495057"]  # fmt: skip


def _lang() -> str:
    return "ja" if (get_language() or "").startswith("ja") else "en"


def _figure():
    plt.rcParams["font.family"] = matplotlib_font()
    plt.rcParams["axes.unicode_minus"] = False  # IPAexGothic has no U+2212 minus
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    ax.grid(True, color="#dde3ea", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _empty(fig, ax) -> bytes:
    ax.axis("off")
    ax.text(0.5, 0.5, _("No cleared interval in this period."), ha="center", va="center")
    return _png(fig)


def _time_axis(ax, report: MarketReport) -> None:
    days = (report.end - report.start).days
    fmt = "%H:%M" if days <= 1 else "%m-%d"
    ax.xaxis.set_major_formatter(mdates.DateFormatter(fmt, tz=calendar.JST))
    if days <= 1:
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=range(0, 24, 3), tz=calendar.JST))
    ax.set_xlim(report.start, report.end)  # the whole period, cleared or not
    ax.set_xlabel(_("JST"))


def prices_chart(report: MarketReport) -> bytes:
    """Cleared energy price per area over the period (areas with clearing only)."""
    fig, ax = _figure()
    series = defaultdict(list)
    for r in report.area_intervals:
        if r.energy_jpy_per_kwh is not None:
            series[r.area].append((r.interval_start, float(r.energy_jpy_per_kwh)))
    if not series:
        return _empty(fig, ax)
    lang = _lang()
    for i, (area, points) in enumerate(sorted(series.items())):
        xs, ys = zip(*sorted(points), strict=True)
        ax.step(xs, ys, where="post", label=report.area_name(area, lang), color=COLOURS[i % 9],
                linewidth=1.3)  # fmt: skip
    ax.set_title(_("Cleared energy price per area (JPY/kWh)"))
    ax.set_ylabel(_("JPY/kWh"))
    _time_axis(ax, report)
    ax.legend(ncol=5, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return _png(fig)


def volumes_chart(report: MarketReport) -> bytes:
    """CU-hours cleared and energy used (kWh from offers / grid) per area."""
    fig, ax = _figure()
    areas = [a for a in report.areas if a.cu_cleared or a.kwh_from_offers or a.kwh_from_grid]
    if not areas:
        return _empty(fig, ax)
    lang = _lang()
    names = [report.area_name(a.area, lang) for a in areas]
    xs = range(len(areas))
    ax.bar(xs, [float(a.cu_h_cleared) for a in areas], color=COLOURS[0], width=0.55)
    ax.set_xticks(list(xs), names)
    ax.set_xlim(-0.8, len(areas) - 0.2)
    ax.set_ylabel(_("CU-hours cleared"))
    ax.set_title(_("Cleared volume by area"))
    energy = ax.twinx()
    width = 0.18
    energy.scatter([x - width for x in xs], [float(a.kwh_from_offers) for a in areas],
                   marker="^", color=COLOURS[2], label=_("kWh from energy offers"), zorder=3)  # fmt: skip
    energy.scatter([x + width for x in xs], [float(a.kwh_from_grid) for a in areas],
                   marker="o", color=COLOURS[1], label=_("kWh from the grid"), zorder=3)  # fmt: skip
    energy.set_ylabel(_("kWh"))
    energy.set_ylim(bottom=0)
    energy.spines["top"].set_visible(False)
    energy.legend(fontsize=7, loc="upper right", frameon=False)
    return _png(fig)


def savings_chart(report: MarketReport) -> bytes:
    """Cumulative welfare gain of the clearing over the *stay* and *greedy* baselines."""
    fig, ax = _figure()
    runs = [r for r in report.runs if r.saving_vs_stay_jpy is not None]
    if not runs:
        return _empty(fig, ax)
    xs, stay, greedy = [], [], []
    total_stay = total_greedy = Decimal(0)
    for r in runs:
        total_stay += r.saving_vs_stay_jpy
        total_greedy += r.saving_vs_greedy_jpy or 0
        xs.append(r.interval_start)
        stay.append(float(total_stay))
        greedy.append(float(total_greedy))
    ax.plot(xs, stay, color=COLOURS[2], linewidth=1.6, label=_("vs stay"))
    ax.plot(xs, greedy, color=COLOURS[4], linewidth=1.6, label=_("vs greedy"))
    ax.set_title(_("Cumulative welfare gain over the baselines (JPY)"))
    ax.set_ylabel(_("JPY"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
    _time_axis(ax, report)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


CHARTS = {"prices": prices_chart, "volumes": volumes_chart, "savings": savings_chart}
