"""/openadr3/: the OpenADR 3.1 VTN (mounted by aggregator/urls.py)."""

from django.urls import path
from oauth2_provider.views import TokenView

from aggregator.openadr.api import views

app_name = "openadr"

urlpatterns = [
    path("auth/server", views.AuthServerView.as_view(), name="auth-server"),
    # django-oauth-toolkit's token endpoint: client credentials only (the clients' grant).
    path("auth/token", TokenView.as_view(), name="auth-token"),
    path("notifiers", views.NotifiersView.as_view(), name="notifiers"),
    path("programs", views.ProgramsView.as_view(), name="programs"),
    path("programs/<str:program_id>", views.ProgramView.as_view(), name="program"),
    path("events", views.EventsView.as_view(), name="events"),
    path("events/<str:event_id>", views.EventView.as_view(), name="event"),
    path("reports", views.ReportsView.as_view(), name="reports"),
    path("reports/<str:report_id>", views.ReportView.as_view(), name="report"),
    path("subscriptions", views.SubscriptionsView.as_view(), name="subscriptions"),
    path(
        "subscriptions/<str:subscription_id>",
        views.SubscriptionView.as_view(),
        name="subscription",
    ),
    path("vens", views.VensView.as_view(), name="vens"),
    path("vens/<str:ven_id>", views.VenView.as_view(), name="ven"),
    path("resources", views.ResourcesView.as_view(), name="resources"),
    path("resources/<str:resource_id>", views.ResourceView.as_view(), name="resource"),
]
