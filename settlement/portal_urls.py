"""Portal routes of settlement (included under `settlement/`, namespace `settlement`)."""

from django.urls import path, re_path

from settlement import portal, portal_exports, portal_parameters

app_name = "settlement"

MONTH = r"(?P<month>\d{4}-\d{2})"

urlpatterns = [
    path("", portal.statements, name="statements"),
    re_path(rf"^statements/{MONTH}/csv$", portal.statement_csv, name="statement-csv"),
    re_path(rf"^statements/{MONTH}/pdf$", portal.statement_pdf, name="statement-pdf"),
    re_path(rf"^invoices/{MONTH}/pdf$", portal.invoice_pdf, name="invoice-pdf"),
    path("meter/", portal.meter_upload, name="meter-upload"),
    path("meter/export.csv", portal_exports.meter_csv, name="meter-csv"),
    path("parameters/", portal_parameters.parameters, name="parameters"),
]
