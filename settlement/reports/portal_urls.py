"""Portal routes of the regulator reports (included under /reports/, namespace "reports")."""

from django.urls import path

from settlement.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="market"),
    path("download/", views.download, name="download"),
    path("export.csv", views.areas_csv, name="areas-csv"),
    path("interventions/export.csv", views.interventions_csv, name="interventions-csv"),
]
