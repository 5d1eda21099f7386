"""Routes of the settlement API under /api/v1/."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from settlement.api import views

router = SimpleRouter()
router.register("meter-readings", views.MeterReadingViewSet, basename="meter-reading")
router.trailing_slash = "/?"

MONTH = r"(?P<month>\d{4}-\d{2})"

urlpatterns = [
    re_path(r"^meter-readings/bulk/?$", views.MeterBulkView.as_view(), name="meter-bulk"),
    re_path(r"^meter-readings/csv/?$", views.MeterCsvView.as_view(), name="meter-csv"),
    re_path(r"^statements/?$", views.StatementListView.as_view(), name="statements"),
    re_path(rf"^statements/{MONTH}/csv/?$", views.StatementCsvView.as_view(), name="statement-csv"),
    re_path(rf"^statements/{MONTH}/pdf/?$", views.StatementPdfView.as_view(), name="statement-pdf"),
    re_path(rf"^invoices/{MONTH}/pdf/?$", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    *router.urls,
]
