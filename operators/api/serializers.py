"""Input (type checks only) and output shapes of the participants API; rules live in services."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.utils import timezone
from rest_framework import serializers

from aggregator.platform.access import Scope
from operators.choices import MemberRole, OrganisationRole
from operators.models import (
    ApiKey,
    DemandZone,
    GridArea,
    Membership,
    Organisation,
    Site,
    WebhookEndpoint,
)


class GridAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = GridArea
        fields = ["code", "name_en", "name_ja"]


class DemandZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = DemandZone
        fields = ["code", "name_en", "name_ja", "area"]


class OrganisationSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(OrganisationRole.choices))
    # Plain strings in responses: either may be blank, so no pattern/format is promised.
    invoice_registration_number = serializers.CharField(read_only=True)
    contact_email = serializers.CharField(read_only=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "slug",
            "legal_name_ja",
            "legal_name_en",
            "roles",
            "invoice_registration_number",
            "contact_email",
            "contact_phone",
            "created_at",
        ]


class OrganisationUpdateSerializer(serializers.Serializer):
    legal_name_ja = serializers.CharField(max_length=200, required=False)
    legal_name_en = serializers.CharField(max_length=200, required=False)
    invoice_registration_number = serializers.CharField(
        max_length=14, required=False, allow_blank=True
    )
    contact_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.CharField(source="user.email")
    is_active = serializers.BooleanField(source="user.is_active")
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "is_active", "organisation", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254)
    role = serializers.ChoiceField(MemberRole.choices)
    password = serializers.CharField(max_length=128, write_only=True)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(MemberRole.choices)


class ApiKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(Scope.choices), min_length=1)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The full key. It is shown this once and never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class SiteSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    area = serializers.CharField(source="area_id")

    class Meta:
        model = Site
        fields = [
            "id",
            "code",
            "name",
            "organisation",
            "area",
            "prefecture",
            "accelerator",
            "capacity_cu",
            "cu_description",
            "kw_per_cu",
            "pue",
            "residency_tags",
            "latency_ms",
            "grid_connection_cap_kw",
            "is_active",
            "created_at",
            "updated_at",
        ]


class SitePublicSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area_id")

    class Meta:
        model = Site
        fields = ["id", "code", "area", "accelerator", "capacity_cu"]


class SiteInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=200)
    area = serializers.CharField(max_length=20)
    prefecture = serializers.CharField(max_length=20)
    accelerator = serializers.CharField(max_length=20)
    capacity_cu = serializers.IntegerField()
    cu_description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    kw_per_cu = serializers.DecimalField(max_digits=8, decimal_places=4)
    pue = serializers.DecimalField(max_digits=4, decimal_places=2)
    residency_tags = serializers.ListField(child=serializers.CharField(), required=False)
    latency_ms = serializers.DictField(child=serializers.IntegerField(), required=False)
    grid_connection_cap_kw = serializers.DecimalField(
        max_digits=12, decimal_places=1, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)


def _now() -> datetime:
    return timezone.now()


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret_format = serializers.SerializerMethodField(
        help_text="`standard`: a Standard Webhooks secret as issued. `legacy`: issued before "
        "Standard Webhooks; give a library `whsec_` + base64 of the secret's UTF-8 bytes, or "
        "rotate (docs/webhooks.md). Legacy secrets also sign the Wattbit-Signature header."
    )
    previous_secret_prefix = serializers.SerializerMethodField(
        help_text="The secret replaced by the last rotation, while it still signs; else null."
    )
    previous_secret_signs_until = serializers.SerializerMethodField(
        help_text="Until when the replaced secret still signs beside the current one (both "
        "signatures in `webhook-signature`); null when it no longer does."
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "is_active",
            "secret_prefix",
            "secret_format",
            "secret_rotated_at",
            "previous_secret_prefix",
            "previous_secret_signs_until",
            "created_at",
        ]

    def get_secret_format(self, obj) -> Literal["standard", "legacy"]:
        return "legacy" if obj.secret_legacy else "standard"

    def get_previous_secret_prefix(self, obj) -> str | None:
        return obj.previous_secret_prefix if obj.previous_secret_signs_until(_now()) else None

    def get_previous_secret_signs_until(self, obj) -> datetime | None:
        until = obj.previous_secret_signs_until(_now())
        return serializers.DateTimeField().to_representation(until) if until else None


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(
        help_text="The new signing secret (`whsec_` + base64). Shown this once."
    )
    previous_secret_signs_until = serializers.DateTimeField(
        allow_null=True,
        help_text="Until when the replaced secret still signs beside the new one; null "
        "when it stopped at once (no overlap configured).",
    )
    endpoint = WebhookEndpointSerializer()
