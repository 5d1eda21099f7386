"""Portal routes for the market operator (regulators read the same pages).

aggregator/urls.py mounts them under /operator/ in the `operator` namespace, together with
the pages other apps add there (market/operator_urls.py)."""

from django.urls import path

from operators import portal_operator

urlpatterns = [
    path("participants/", portal_operator.participants, name="participants"),
    path("audit/", portal_operator.audit_chain, name="audit"),
]
