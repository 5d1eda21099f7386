"""Portal routes of the market (to be included under `market/` with namespace `market`)."""

from django.urls import path

from market import views

app_name = "market"

urlpatterns = [
    path("bids/", views.bid_list, name="bid-list"),
    path("bids/<slug:bid_type>/<int:pk>/", views.bid_detail, name="bid-detail"),
]
