"""Routes of the market API under /api/v1/."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from market.api import views

router = SimpleRouter()
router.register("capacity-offers", views.CapacityOfferViewSet, basename="capacity-offer")
router.register("energy-offers", views.EnergyOfferViewSet, basename="energy-offer")
router.register("workloads", views.WorkloadBidViewSet, basename="workload")
router.register("signals", views.SignalViewSet, basename="signal")

urlpatterns = [
    # Exact paths without a trailing slash, as documented (the router's need one).
    re_path(
        r"^signals/best-windows/?$",
        views.SignalViewSet.as_view({"get": "best_windows"}),
        name="signal-best-windows-exact",
    ),
    re_path(r"^bids/bulk/?$", views.BulkBidViewSet.as_view({"post": "create"}), name="bids-bulk"),
    *router.urls,
]
