"""Portal routes for the market operator (regulators read the same pages)."""

from django.urls import path

from operators import portal_operator

app_name = "operator"

urlpatterns = [
    path("participants/", portal_operator.participants, name="participants"),
    path("parameters/", portal_operator.parameters, name="parameters"),
    path("audit/", portal_operator.audit_chain, name="audit"),
]
