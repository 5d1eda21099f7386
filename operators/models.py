"""Participants of the exchange and their reference data."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from operators.choices import Accelerator, MemberRole, OrganisationRole


class GridArea(models.Model):
    """One of the nine JEPX price areas (reference data, loaded by a migration)."""

    code = models.SlugField(primary_key=True, max_length=20)
    name_en = models.CharField(max_length=50)
    name_ja = models.CharField(max_length=50)
    # JEPX column order in spot_summary files, used by the price import.
    jepx_order = models.PositiveSmallIntegerField(unique=True)

    class Meta:
        ordering = ["jepx_order"]

    def __str__(self) -> str:
        return self.code


class DemandZone(models.Model):
    """Where end users are; sites declare round-trip latency to zones."""

    code = models.SlugField(primary_key=True, max_length=20)
    name_en = models.CharField(max_length=50)
    name_ja = models.CharField(max_length=50)
    area = models.ForeignKey(GridArea, on_delete=models.PROTECT, related_name="zones")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Organisation(models.Model):
    slug = models.SlugField(unique=True, max_length=50)
    legal_name_ja = models.CharField(_("legal name (Japanese)"), max_length=200)
    legal_name_en = models.CharField(_("legal name (English)"), max_length=200)
    # A subset of OrganisationRole values; an organisation may hold several.
    roles = models.JSONField(default=list)
    invoice_registration_number = models.CharField(
        _("qualified-invoice registration number"),
        max_length=14,
        blank=True,
        validators=[RegexValidator(r"^T\d{13}$", _("Use T followed by 13 digits."))],
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_regulator(self) -> bool:
        return OrganisationRole.REGULATOR in self.roles

    @property
    def is_market_operator(self) -> bool:
        return OrganisationRole.MARKET_OPERATOR in self.roles


class Membership(models.Model):
    """A user belongs to exactly one organisation, with one role in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiKey(models.Model):
    """A machine credential. Only a SHA-256 of the secret is stored; the key is shown once."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    # The visible, non-secret part: "wb_" + 8 characters, enough to tell keys apart in logs.
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Site(models.Model):
    """A datacenter of a compute provider."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sites")
    # Stable public identifier, used as the site id in clearing snapshots.
    code = models.SlugField(unique=True, max_length=40)
    name = models.CharField(max_length=200)
    area = models.ForeignKey(GridArea, on_delete=models.PROTECT, related_name="sites")
    prefecture = models.CharField(max_length=20)
    accelerator = models.CharField(max_length=20, choices=Accelerator.choices)
    capacity_cu = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    # What one compute unit is at this site, in words (e.g. "one H100 SXM, 80 GB").
    cu_description = models.CharField(max_length=200, blank=True)
    kw_per_cu = models.DecimalField(max_digits=8, decimal_places=4)
    pue = models.DecimalField(max_digits=4, decimal_places=2)
    residency_tags = models.JSONField(default=list, blank=True)
    # {"tokyo": 2, "osaka": 9}: round-trip milliseconds to demand zones.
    latency_ms = models.JSONField(default=dict, blank=True)
    grid_connection_cap_kw = models.DecimalField(
        max_digits=12, decimal_places=1, null=True, blank=True
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(pue__gte=1), name="site_pue_at_least_one"),
            models.CheckConstraint(condition=Q(kw_per_cu__gt=0), name="site_kw_per_cu_positive"),
            models.CheckConstraint(condition=Q(capacity_cu__gte=1), name="site_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class WebhookEndpoint(models.Model):
    """Where dispatch orders are pushed. Signing secrets are encrypted at rest (we sign with
    them): the current one, and after a rotation the previous one until its overlap ends."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # A `whsec_` Standard Webhooks secret (operators/crypto.py), encrypted.
    secret_encrypted = models.BinaryField()
    # What the participant can recognise their secret by: its first characters as issued.
    secret_prefix = models.CharField(max_length=16)
    # Issued before Standard Webhooks (operators 0004): stored re-encoded with the same key,
    # and it still signs the old Wattbit-Signature header too (this release only).
    secret_legacy = models.BooleanField(default=False)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # The secret replaced by the last rotation: it signs beside the current one until
    # previous_secret_expires_at (WEBHOOK_SECRET_OVERLAP_HOURS after the rotation).
    previous_secret_encrypted = models.BinaryField(null=True, blank=True)
    previous_secret_prefix = models.CharField(max_length=16, blank=True)
    previous_secret_legacy = models.BooleanField(default=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    previous_secret_encrypted__isnull=True, previous_secret_expires_at__isnull=True
                )
                | Q(
                    previous_secret_encrypted__isnull=False,
                    previous_secret_expires_at__isnull=False,
                ),
                name="webhook_previous_secret_has_expiry",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    def previous_secret_signs_until(self, now: datetime) -> datetime | None:
        """When the previous secret stops signing, if it still signs at `now`."""
        expires = self.previous_secret_expires_at
        if self.previous_secret_encrypted is None or expires is None or expires <= now:
            return None
        return expires
