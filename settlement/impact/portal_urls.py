"""Portal route of the market-impact page (included under /impact/, namespace "impact")."""

from django.urls import path

from settlement.impact import portal

app_name = "impact"

urlpatterns = [
    path("", portal.impact, name="month"),
    path("export.csv", portal.impact_csv, name="csv"),
]
