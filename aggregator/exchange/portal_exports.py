"""CSV export of the clearing runs page (`market:runs-csv`, beside `market:runs`).

Run metadata is public (clearing_selectors.run_list): the same newest runs the page lists,
with the same columns and the full hashes; conventions from aggregator.platform.csv_export.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.csv_export import csv_response
from aggregator.platform.portal import portal_view
from market import calendar, clearing_selectors

# The runs page shows the newest 96 runs (two days); the export holds the same runs.
RUNS_SHOWN = 96


@portal_view
def runs_csv(request):
    """The runs page's table as CSV: status, welfare against the baselines, hashes, replays."""
    runs = list(
        clearing_selectors.run_list()
        # The snapshot and result JSON are large and not exported: leave them in the database.
        .defer("snapshot_json", "result_json")
        .order_by("-interval_start")[:RUNS_SHOWN]
    )
    replays = clearing_selectors.latest_replays([r.pk for r in runs])
    header = [
        _("Run"),
        _("Firm interval start (JST)"),
        _("Gate closure (JST)"),
        _("Status"),
        _("Attempts"),
        _("Welfare (JPY)"),
        _("Welfare of stay (JPY)"),
        _("Welfare of greedy (JPY)"),
        _("Solver"),
        _("Fallback"),
        _("Replay"),
        _("Replay solver"),
        _("Input sha256"),
        _("Result sha256"),
        _("Error"),
    ]

    def rows():
        for r in runs:
            replay = replays.get(r.pk)
            verdict = (
                "" if replay is None else (_("identical") if replay.get("ok") else _("DIFFERENT"))
            )
            yield [
                r.pk,
                r.interval_start,
                r.gate_closure,
                r.get_status_display(),
                r.attempts,
                r.welfare_jpy,
                r.stay_welfare_jpy,
                r.greedy_welfare_jpy,
                (r.solver_stats or {}).get("backend") or "highs",
                (r.fallback or {}).get("detail", ""),
                verdict,
                "" if replay is None else replay.get("replay_solver") or "highs",
                r.input_sha256,
                r.result_sha256,
                r.error,
            ]

    today = calendar.to_jst(timezone.now()).date()
    return csv_response(filename=f"wattbit-runs-{today:%Y-%m-%d}.csv", header=header, rows=rows())
