"""Portal routes of the exchange. aggregator/urls.py mounts each list in the namespace its
pages always had: `portal:home` at /, `market:runs` and `market:run-replay` under /market/."""

from django.urls import path

from aggregator.exchange import portal_exports, views

portal = [
    path("", views.home, name="home"),
]

market = [
    path("runs/", views.runs, name="runs"),
    path("runs/export.csv", portal_exports.runs_csv, name="runs-csv"),
    path("runs/<int:pk>/replay/", views.run_replay, name="run-replay"),
]
