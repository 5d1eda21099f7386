"""Shapes of the settlement API: meter readings in and out, statement summaries out."""

from __future__ import annotations

from rest_framework import serializers

from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, format_public_id
from settlement.models import MeterReading


class MeterReadingInSerializer(serializers.Serializer):
    """A reading: `cu` for kind `compute`, `kwh` for `site_energy` and `supply`."""

    kind = serializers.CharField()
    interval_start = serializers.CharField()
    site = serializers.CharField(required=False)
    workload = serializers.CharField(required=False)
    offer = serializers.CharField(required=False)
    cu = serializers.CharField(required=False)
    kwh = serializers.CharField(required=False)


class MeterReadingSerializer(serializers.ModelSerializer):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    workload = serializers.SerializerMethodField()
    offer = serializers.SerializerMethodField()
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = MeterReading
        fields = [
            "id", "interval_start", "kind", "subject", "revision", "organisation", "site",
            "workload", "offer", "cu", "kwh", "late", "actor_label", "created_at",
        ]  # fmt: skip

    def get_workload(self, obj) -> str | None:
        return format_public_id(WORKLOAD, obj.workload_id) if obj.workload_id else None

    def get_offer(self, obj) -> str | None:
        return format_public_id(ENERGY_OFFER, obj.offer_id) if obj.offer_id else None


class MeterBulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    readings = serializers.ListField(child=serializers.IntegerField())


class StatementSummarySerializer(serializers.Serializer):
    organisation = serializers.CharField()
    month = serializers.CharField()
    lines = serializers.IntegerField()
    credits_jpy = serializers.IntegerField(
        help_text="Net owed to the organisation: the purchase statement's amount before tax."
    )
    charges_jpy = serializers.IntegerField(
        help_text="Net owed by the organisation (≤ 0): minus the invoice's amount before tax."
    )
    net_jpy = serializers.IntegerField()
    provisional_jpy = serializers.IntegerField(
        help_text="Lines settled on ordered amounts (stage provisional), before reversals."
    )
    reversals_jpy = serializers.IntegerField(
        help_text="Reversals of provisional lines once meter data arrived."
    )
    by_kind = serializers.DictField(child=serializers.IntegerField())
    invoice = serializers.DictField(allow_null=True)
    purchase_statement = serializers.DictField(allow_null=True)
    links = serializers.DictField(child=serializers.CharField())
