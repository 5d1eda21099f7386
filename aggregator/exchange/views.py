"""Portal pages of the exchange: the dashboard (home) and the clearing runs with replay.

They compose the apps (the dashboard reads every one; replay re-solves with the engine), so
they live up here; aggregator/urls.py mounts them under the names they always had
(`portal:home`, `market:runs`, `market:run-replay`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aggregator.exchange.dashboard import dashboard_context
from aggregator.exchange.replay import replay_run
from aggregator.platform.portal import portal_view
from market import clearing_selectors
from operators import selectors
from settlement.impact.selectors import impact_for, last_days_bounds


@portal_view
def home(request):
    actor = request.actor
    week = last_days_bounds(timezone.now(), days=7)
    context = {
        **dashboard_context(actor=actor, now=timezone.now()),
        "impact": impact_for(actor=actor, start=week[0], end=week[1], ledger=False),
        "organisation": actor.organisation,
        "site_count": selectors.site_list(actor=actor).count(),
        "key_count": selectors.api_key_list(actor=actor).filter(revoked_at__isnull=True).count(),
        "webhook_count": selectors.webhook_endpoint_list(actor=actor)
        .filter(is_active=True)
        .count(),
    }
    return render(request, "exchange/home.html", context)


@portal_view
def runs(request):
    """Every clearing run: status, hashes, welfare against the baselines; replay for regulators."""
    runs = list(clearing_selectors.run_list().order_by("-interval_start")[:96])
    replays = clearing_selectors.latest_replays([r.pk for r in runs])
    rows = [{"run": r, "replay": replays.get(r.pk)} for r in runs]
    return render(request, "exchange/runs.html", {"rows": rows})


@require_POST
@portal_view
def run_replay(request, pk: int):
    if not request.actor.is_regulator:
        raise PermissionDenied
    run = get_object_or_404(clearing_selectors.run_list(), pk=pk)
    verdict = replay_run(run, actor_label=request.actor.label, actor=request.actor)
    if verdict.ok:
        messages.success(
            request,
            _(
                "Run %(id)s replayed with %(replay)s (cleared with %(run)s): identical result "
                "(sha256 %(h)s…)."
            )
            % {
                "id": run.pk,
                "h": verdict.actual_sha256[:16],
                "run": verdict.run_solver,
                "replay": verdict.replay_solver,
            },
        )
    else:
        messages.error(
            request,
            _("Run %(id)s replayed: DIFFERENT — %(d)s")
            % {"id": run.pk, "d": verdict.first_difference},
        )
    return redirect("market:runs")
