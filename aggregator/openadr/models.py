"""What the VTN stores: its OAuth2 clients, VENs and their resources, subscriptions and the
notifications owed to them, and the reports VENs sent. Programs and events are not stored:
they are views of the market's grid areas, dispatch orders and prices (aggregator.openadr.payloads)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class VenClient(models.Model):
    """One OAuth2 client (django-oauth-toolkit's Application) acting for one organisation."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="openadr_client"
    )
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="openadr_clients"
    )
    # The spec's scopes this client may ask for (openadr.choices.OadrScope).
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.organisation.slug}:{self.application.client_id}"


class Ven(models.Model):
    """A VEN registered by a client; its resources name the organisation's sites."""

    client = models.ForeignKey(VenClient, on_delete=models.PROTECT, related_name="vens")
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    ven_name = models.CharField(max_length=128, unique=True)
    attributes = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.ven_name


class VenResource(models.Model):
    ven = models.ForeignKey(Ven, on_delete=models.CASCADE, related_name="resources")
    resource_name = models.CharField(max_length=128)
    # A resource named like one of the organisation's sites (its code) stands for that site.
    site = models.ForeignKey(
        "operators.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attributes = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ven", "resource_name"], name="oadr_resource_unique")
        ]

    def __str__(self) -> str:
        return self.resource_name


class Subscription(models.Model):
    """A client's callbacks for operations on objects; verified by the echo challenge."""

    client = models.ForeignKey(VenClient, on_delete=models.PROTECT, related_name="subscriptions")
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    client_name = models.CharField(max_length=128)
    program_id = models.CharField(max_length=128, blank=True, default="")
    # [{"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": …, "bearerToken": …}]
    object_operations = models.JSONField()
    targets = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"sub-{self.pk}"


class Notification(models.Model):
    """An outbox row: one event (a dispatch order) owed to one callback of a subscription."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="notifications"
    )
    callback_index = models.PositiveSmallIntegerField()
    order = models.ForeignKey("market.DispatchOrder", on_delete=models.PROTECT, related_name="+")
    operation = models.CharField(max_length=8)
    state = models.CharField(max_length=10, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    # Like an order's push: useless once the interval has started.
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "callback_index", "order", "operation"],
                name="oadr_notification_once",
            )
        ]
        indexes = [
            models.Index(fields=["state"], name="oadr_notif_pending", condition=Q(state="pending"))
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.state})"


class Report(models.Model):
    """A report as a VEN sent it, and the dispatch order it answered."""

    client = models.ForeignKey(VenClient, on_delete=models.PROTECT, related_name="reports")
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    event_id = models.CharField(max_length=128)
    order = models.ForeignKey(
        "market.DispatchOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_name = models.CharField(max_length=128)
    report_name = models.CharField(max_length=256, blank=True, default="")
    payload_descriptors = models.JSONField(null=True, blank=True)
    resources = models.JSONField()
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"rpt-{self.pk}"
