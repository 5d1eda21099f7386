"""Django admin for the market operator, read-only: parameters, signals, cleared bids.

Market parameters change on the portal's *Market parameters* page and signals through
their import and publish services, which validate and audit every change; the admin saves
rows directly, so it only shows them.

Bids are sealed: before clearing not even the operator's staff may read them, so the bid
admins list cleared/rejected bids only (read-only), and revisions and idempotency keys
(which hold bid contents) are not registered at all.
"""

from __future__ import annotations

from django.contrib import admin

from aggregator.platform.admin_readonly import ReadOnlyAdmin
from market.choices import CLEARED_STATUSES
from market.models import (
    CapacityOffer,
    CarbonFactor,
    EnergyOffer,
    MarketParameters,
    Signal,
    WorkloadBid,
)


@admin.register(MarketParameters)
class MarketParametersAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "gate_closure_lead_minutes", "horizon_intervals", "updated_at"]


@admin.register(Signal)
class SignalAdmin(ReadOnlyAdmin):
    list_display = ["kind", "area", "interval_start", "value", "source", "published_at"]
    list_filter = ["kind", "area", "source"]
    date_hierarchy = "interval_start"


@admin.register(CarbonFactor)
class CarbonFactorAdmin(ReadOnlyAdmin):
    list_display = ["area", "year", "g_per_kwh", "renewable_pct", "source"]


class _ClearedBidAdmin(ReadOnlyAdmin):
    """Read-only, and only bids whose outcome is known; sealed bids do not exist here."""

    list_display = ["id", "organisation", "status", "start", "end", "revision"]
    list_filter = ["status"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=CLEARED_STATUSES)


admin.site.register(CapacityOffer, _ClearedBidAdmin)
admin.site.register(EnergyOffer, _ClearedBidAdmin)
admin.site.register(WorkloadBid, _ClearedBidAdmin)
