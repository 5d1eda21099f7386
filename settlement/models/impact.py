"""Per-run firm-interval figures of "what the market did" (settlement.impact), memoised.

A run's figures are derived data: its snapshot (baselines, offered capacity) and its current
firm rows, summed per organisation. They are written when the run completes and rewritten
when a re-dispatch changes its rows (`RunImpact.redispatches` says which rows they saw), so
a month's page sums a few thousand rows instead of re-solving 1,440 baselines.
"""

from __future__ import annotations

from django.db import models

__all__ = ["ImpactFigure", "RunImpact"]


class RunImpact(models.Model):
    """That a run's figures were computed, from which of its re-dispatches, by which rules."""

    run = models.OneToOneField(
        "market.ClearingRun", on_delete=models.CASCADE, related_name="impact_memo"
    )
    interval_start = models.DateTimeField(db_index=True)
    version = models.PositiveIntegerField()
    redispatches = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"impact of run {self.run_id} (v{self.version})"


class ImpactFigure(models.Model):
    """One figure of one run's firm interval: an organisation's (or the market's when null)."""

    run = models.ForeignKey("market.ClearingRun", on_delete=models.CASCADE, related_name="+")
    interval_start = models.DateTimeField()
    organisation = models.ForeignKey(
        "operators.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    metric = models.CharField(max_length=40)  # settlement.impact.figures.Metric
    key = models.CharField(max_length=60, blank=True)  # area or site code, or ""
    value = models.DecimalField(max_digits=20, decimal_places=6)

    class Meta:
        ordering = ["interval_start", "metric", "key"]
        indexes = [
            models.Index(fields=["organisation", "interval_start"], name="impact_org_interval"),
            models.Index(fields=["interval_start", "metric"], name="impact_interval_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.metric}[{self.key}] = {self.value}"
