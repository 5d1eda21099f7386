"""Test URLconf: the project's routes plus the market portal (until the lead includes it)."""

from django.urls import include, path

from aggregator.urls import urlpatterns as project

urlpatterns = [path("market/", include("market.portal_urls")), *project]
