"""The exchange's API: clearing runs, their frozen input and the regulators' replay.

Mounted under /api/v1/ by aggregator/urls.py, at the paths and names it always had
(`clearing-run-list`, `clearing-run-detail`, `clearing-run-replay`, `clearing-run-snapshot`).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from aggregator.exchange.replay import replay_run
from aggregator.platform.access import request_actor
from aggregator.platform.errors import Forbidden, InvalidInput
from market import clearing_selectors
from market.api import clearing_serializers as cs
from market.api.clearing_views import IntervalFilter
from market.models.clearing import ClearingRun


class RunFilter(IntervalFilter):
    class Meta:
        model = ClearingRun
        fields = ["status"]


class ClearingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every clearing run: interval, status, input/result hashes, welfare vs baselines."""

    serializer_class = cs.ClearingRunSerializer
    filterset_class = RunFilter
    read_only_actions = ("replay",)
    queryset = ClearingRun.objects.none()

    def get_queryset(self):
        return clearing_selectors.run_list().order_by("id")

    @extend_schema(request=None, responses=cs.ReplayVerdictSerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Regulators: re-solve the stored snapshot and compare hashes (read-only, audited)."""
        actor = request_actor(request)
        if not actor.is_regulator:
            raise Forbidden(_("Only regulators replay runs through the API."))
        run = self.get_object()
        try:
            verdict = replay_run(run, actor_label=actor.label, actor=actor)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        return Response(cs.ReplayVerdictSerializer(verdict.as_dict()).data)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def snapshot(self, request, pk=None):
        """The frozen input (canonical JSON) — regulators, once the whole horizon is cleared."""
        run = self.get_object()
        if not clearing_selectors.snapshot_readable(
            actor=request_actor(request), run=run, now=timezone.now()
        ):
            raise Forbidden(
                _("Snapshots hold sealed bids; regulators may read one once its horizon is over.")
            )
        return HttpResponse(run.snapshot_json, content_type="application/json")


router = SimpleRouter()
router.register("clearing-runs", ClearingRunViewSet, basename="clearing-run")
router.trailing_slash = "/?"

urlpatterns: list[re_path] = [*router.urls]
