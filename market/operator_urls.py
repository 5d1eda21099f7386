"""The market's page among the market operator's (aggregator/urls.py adds it to the
`operator` namespace under /operator/)."""

from django.urls import path

from market import portal_parameters

urlpatterns = [
    path("parameters/", portal_parameters.parameters, name="parameters"),
]
