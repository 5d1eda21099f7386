"""Routes of the market API under /api/v1/ (the clearing runs are the exchange's:
aggregator/exchange/api.py)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from market.api import carbon_aware, clearing_views, views

router = SimpleRouter()
router.register("capacity-offers", views.CapacityOfferViewSet, basename="capacity-offer")
router.register("energy-offers", views.EnergyOfferViewSet, basename="energy-offer")
router.register("workloads", views.WorkloadBidViewSet, basename="workload")
router.register("signals", views.SignalViewSet, basename="signal")
router.register("allocations", clearing_views.AllocationViewSet, basename="allocation")
router.register("energy-awards", clearing_views.EnergyAwardViewSet, basename="energy-award")
router.register("capacity-sales", clearing_views.CapacitySaleViewSet, basename="capacity-sale")
router.register("orders", clearing_views.OrderViewSet, basename="order")
router.trailing_slash = "/?"

urlpatterns = [
    # Exact paths without a trailing slash, as documented (the router's need one).
    re_path(
        r"^signals/best-windows/?$",
        views.SignalViewSet.as_view({"get": "best_windows"}),
        name="signal-best-windows-exact",
    ),
    re_path(r"^bids/bulk/?$", views.BulkBidViewSet.as_view({"post": "create"}), name="bids-bulk"),
    re_path(r"^results/?$", clearing_views.ResultsView.as_view(), name="results"),
    re_path(
        r"^results/advisory/?$", clearing_views.AdvisoryView.as_view(), name="results-advisory"
    ),
    re_path(r"^events/outage/?$", clearing_views.OutageEventView.as_view(), name="event-outage"),
    re_path(
        r"^events/energy-offer/?$",
        clearing_views.EnergyOfferEventView.as_view(),
        name="event-energy-offer",
    ),
    # Shaped like the Carbon Aware SDK WebAPI: base URL /api/v1/carbon-aware.
    re_path(
        r"^carbon-aware/emissions/forecasts/current/?$",
        carbon_aware.CurrentForecastView.as_view(),
        name="carbon-aware-forecasts-current",
    ),
    re_path(
        r"^carbon-aware/emissions/bylocations/best/?$",
        carbon_aware.BestByLocationsView.as_view(),
        name="carbon-aware-bylocations-best",
    ),
    re_path(
        r"^carbon-aware/locations/?$",
        carbon_aware.LocationsView.as_view(),
        name="carbon-aware-locations",
    ),
    *router.urls,
]
