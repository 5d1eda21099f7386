"""Dispatch orders and their push deliveries: the outbox written with each clearing run."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "AckState",
    "DeliveryAttempt",
    "DeliveryState",
    "DispatchOrder",
    "OrderDelivery",
    "OrderKind",
]


class OrderKind(models.TextChoices):
    HOSTING = "hosting", _("Hosting order (provider)")
    PLACEMENT = "placement", _("Placement order (workload owner)")
    DELIVERY = "delivery", _("Delivery order (energy supplier)")


class AckState(models.TextChoices):
    PENDING = "pending", _("Awaiting acknowledgement")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class DispatchOrder(models.Model):
    """What one organisation must do at one site or in one area during one interval.

    Versions: a re-dispatch writes version n+1 and marks version n superseded; both stay.
    """

    run = models.ForeignKey("market.ClearingRun", on_delete=models.PROTECT, related_name="orders")
    organisation = models.ForeignKey(
        "operators.Organisation", on_delete=models.PROTECT, related_name="dispatch_orders"
    )
    kind = models.CharField(max_length=12, choices=OrderKind.choices)
    interval_start = models.DateTimeField(db_index=True)
    site = models.ForeignKey(
        "operators.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    area = models.ForeignKey(
        "operators.GridArea", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # [{"workload": "wl-7", "cu": 16.0, "jpy_per_cu_h": 141.2, ...}] or [{"offer": "en-3", "kwh": …}]
    lines = models.JSONField()
    total_cu = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    total_kwh = models.DecimalField(max_digits=14, decimal_places=3, default=0)
    reason = models.CharField(max_length=20, default="clearing")  # clearing | redispatch
    # One key per order version: receivers dedupe retries on it.
    idempotency_key = models.CharField(max_length=80, unique=True)
    ack_state = models.CharField(max_length=10, choices=AckState.choices, default=AckState.PENDING)
    ack_reason = models.CharField(max_length=500, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)
    acked_by = models.CharField(max_length=150, blank=True)
    # Set when the interval started with the order still unacknowledged.
    flagged_unacknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["interval_start", "organisation", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "organisation", "kind", "site", "area", "version"],
                name="dispatch_order_version_unique",
            ),
            models.CheckConstraint(
                condition=Q(site__isnull=False) | Q(area__isnull=False),
                name="dispatch_order_site_or_area",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "interval_start"]),
            # /metrics counts orders whose interval started unacknowledged: few, and only these.
            models.Index(
                fields=["flagged_unacknowledged_at"],
                condition=Q(flagged_unacknowledged_at__isnull=False),
                name="order_flagged_unacked_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} ({self.kind})"

    @property
    def public_id(self) -> str:
        return f"ord-{self.pk}-v{self.version}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    EXPIRED = "expired", _("Gave up: the interval started")


class OrderDelivery(models.Model):
    """The push of one order version to one webhook endpoint (the outbox row)."""

    order = models.ForeignKey(DispatchOrder, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(
        "operators.WebhookEndpoint", on_delete=models.PROTECT, related_name="deliveries"
    )
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    # Lease of the worker sending it; a crashed sender's lease expires and it is retried.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "endpoint"], name="order_delivery_unique")
        ]
        indexes = [
            # /metrics reads the pushes not delivered (pending, sending, given up): a few rows
            # beside the delivered bulk, which never changes again.
            models.Index(
                fields=["state"],
                condition=~Q(state="delivered"),
                name="delivery_undelivered_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} → {self.endpoint_id} ({self.state})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(
        OrderDelivery, on_delete=models.PROTECT, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_attempt_unique")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
