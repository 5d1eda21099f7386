"""API routes of the regulator reports (included under /api/v1/)."""

from django.urls import re_path

from settlement.reports.api import MarketReportView

urlpatterns = [
    re_path(r"^reports/market/?$", MarketReportView.as_view(), name="report-market"),
]
