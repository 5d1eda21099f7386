"""Portal routes of the market, mounted under /market/ in the `market` namespace by
aggregator/urls.py (which adds the exchange's clearing runs pages there)."""

from django.urls import path

from market import portal_awards, portal_bids, portal_clearing, portal_exports, views

urlpatterns = [
    path("bids/", views.bid_list, name="bid-list"),
    path("bids/upload/", portal_bids.bid_upload, name="bid-upload"),
    path("bids/upload/template.csv", portal_bids.bid_csv_template, name="bid-csv-template"),
    path("bids/new/<slug:bid_type>/", portal_bids.bid_new, name="bid-new"),
    path("bids/new/<slug:bid_type>/validate/", portal_bids.bid_validate, name="bid-validate"),
    path("bids/<slug:bid_type>/<int:pk>/cancel/", portal_bids.bid_cancel_view, name="bid-cancel"),
    path("bids/<slug:bid_type>/<int:pk>/amend/", portal_bids.bid_amend_view, name="bid-amend"),
    path("bids/<slug:bid_type>/<int:pk>/", views.bid_detail, name="bid-detail"),
    path("results/", portal_clearing.results, name="results"),
    path("results/export.csv", portal_exports.results_csv, name="results-csv"),
    path(
        "results/allocations/export.csv",
        portal_exports.allocations_csv,
        name="allocations-csv",
    ),
    path("orders/", portal_clearing.orders, name="orders"),
    path("orders/export.csv", portal_exports.orders_csv, name="orders-csv"),
    path("awards/", portal_awards.awards, name="awards"),
    path("awards/export.csv", portal_exports.awards_csv, name="awards-csv"),
    path("orders/<int:pk>/acknowledge/", portal_clearing.order_acknowledge, name="order-ack"),
]
