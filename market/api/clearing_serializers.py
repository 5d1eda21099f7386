"""Shapes of clearing runs, results, allocations, orders and events in the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aggregator.platform.api.fields import (
    DecimalTextField,
    FiniteFloatField,
    InstantField,
    WireJSONField,
)
from aggregator.platform.public_ids import CAPACITY_OFFER, ENERGY_OFFER, WORKLOAD, format_public_id
from aggregator.platform.wire import wire_instant, wire_json
from market.models.clearing import Allocation, CapacitySale, ClearingRun, EnergyAward
from market.models.dispatch import DeliveryAttempt, DispatchOrder, OrderDelivery
from market.services.orders import LINE_QUANTITIES


class ClearingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClearingRun
        fields = [
            "id",
            "interval_start",
            "horizon_intervals",
            "gate_closure",
            "status",
            "attempts",
            "started_at",
            "finished_at",
            "input_sha256",
            "result_sha256",
            "welfare_jpy",
            "stay_welfare_jpy",
            "greedy_welfare_jpy",
            "solver_stats",
            "fallback",
            "timings",
            "error",
        ]


class PublicResultSerializer(serializers.Serializer):
    interval_start = serializers.DateTimeField()
    area = serializers.CharField()
    energy_jpy_per_kwh = serializers.DecimalField(max_digits=14, decimal_places=4)
    compute_jpy_per_cu_h = serializers.DecimalField(
        max_digits=14, decimal_places=4, allow_null=True
    )
    cu_cleared = serializers.DecimalField(max_digits=14, decimal_places=6)
    kwh_from_offers = serializers.DecimalField(max_digits=14, decimal_places=3)
    kwh_from_grid = serializers.DecimalField(max_digits=14, decimal_places=3)


class AdvisoryWorkloadSerializer(serializers.Serializer):
    workload = serializers.CharField()
    site = serializers.CharField()
    interval_start = serializers.DateTimeField()
    cu = DecimalTextField()


class AdvisorySiteSerializer(serializers.Serializer):
    site = serializers.CharField()
    interval_start = serializers.DateTimeField()
    cu = DecimalTextField(help_text="CU indicatively sold at your site (all buyers).")


class AdvisoryEnergySerializer(serializers.Serializer):
    offer = serializers.CharField()
    interval_start = serializers.DateTimeField()
    kwh = DecimalTextField()


class AdvisorySerializer(serializers.Serializer):
    """Your own indicative quantities in the advisory intervals: no prices, nobody else's."""

    run = serializers.IntegerField()
    firm_interval_start = serializers.DateTimeField()
    workloads = AdvisoryWorkloadSerializer(many=True)
    sites = AdvisorySiteSerializer(many=True)
    energy_offers = AdvisoryEnergySerializer(many=True)


class AllocationSerializer(serializers.ModelSerializer):
    workload = serializers.SerializerMethodField()
    owner = serializers.CharField(source="workload.organisation.slug")
    site = serializers.CharField(source="site.code")
    area = serializers.CharField(source="site.area_id")

    class Meta:
        model = Allocation
        fields = [
            "id",
            "run",
            "interval_start",
            "workload",
            "owner",
            "site",
            "area",
            "cu",
            "compute_jpy_per_cu_h",
            "all_in_jpy_per_cu_h",
            "redispatch",
        ]

    def get_workload(self, obj) -> str:
        return format_public_id(WORKLOAD, obj.workload_id)


class CapacitySaleSerializer(serializers.ModelSerializer):
    offer = serializers.SerializerMethodField()
    site = serializers.CharField(source="offer.site.code")

    class Meta:
        model = CapacitySale
        fields = [
            "id",
            "run",
            "interval_start",
            "offer",
            "site",
            "cu",
            "jpy_per_cu_h",
            "redispatch",
        ]

    def get_offer(self, obj) -> str:
        return format_public_id(CAPACITY_OFFER, obj.offer_id)


class EnergyAwardSerializer(serializers.ModelSerializer):
    offer = serializers.SerializerMethodField()
    area = serializers.CharField(source="offer.area_id")

    class Meta:
        model = EnergyAward
        fields = ["id", "run", "interval_start", "offer", "area", "kwh", "jpy_per_kwh"]

    def get_offer(self, obj) -> str:
        return format_public_id(ENERGY_OFFER, obj.offer_id)


class DispatchOrderSerializer(serializers.ModelSerializer):
    public_id = serializers.CharField(read_only=True)
    organisation = serializers.CharField(source="organisation.slug")
    site = serializers.CharField(source="site.code", allow_null=True, default=None)
    delivery_states = serializers.SerializerMethodField()
    lines = WireJSONField(
        quantities=LINE_QUANTITIES,
        help_text="What to run or deliver: workloads and CU per site, or kWh per offer; "
        "quantities and prices as decimal strings.",
    )

    class Meta:
        model = DispatchOrder
        fields = [
            "id",
            "public_id",
            "run",
            "organisation",
            "kind",
            "interval_start",
            "site",
            "area",
            "version",
            "is_current",
            "supersedes",
            "lines",
            "total_cu",
            "total_kwh",
            "reason",
            "idempotency_key",
            "ack_state",
            "ack_reason",
            "acked_at",
            "acked_by",
            "flagged_unacknowledged_at",
            "delivery_states",
            "created_at",
        ]

    def get_delivery_states(self, obj) -> list[str]:
        return [d.state for d in obj.deliveries.all()]


class AcknowledgeSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(["accept", "reject"])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "attempted_at", "status_code", "latency_ms", "error"]


class OrderDeliverySerializer(serializers.ModelSerializer):
    endpoint = serializers.CharField(source="endpoint.url")
    attempt_log = DeliveryAttemptSerializer(many=True)

    class Meta:
        model = OrderDelivery
        fields = [
            "id",
            "endpoint",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "attempt_log",
        ]


class OutageSerializer(serializers.Serializer):
    site = serializers.SlugField(max_length=40)
    interval = InstantField(help_text="Start of the firm interval (ISO 8601).")
    cu_available = FiniteFloatField(min_value=0, max_value=1_000_000)


class EnergyOfferChangeSerializer(serializers.Serializer):
    offer = serializers.RegexField(
        r"^en-[0-9]{1,18}$", help_text="The offer's public id, e.g. en-12."
    )
    interval = InstantField()
    kwh = FiniteFloatField(required=False, allow_null=True, min_value=0, max_value=1e9)
    price = FiniteFloatField(required=False, allow_null=True, min_value=-1e5, max_value=1e6)


REDISPATCH_QUANTITIES = frozenset({"cu_available", "kwh", "price", "cu_before", "cu_after"})
_CHANGE_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "workload": {"type": "string", "example": "wl-7"},
            "site": {"type": "string"},
            "interval_start": {"type": "string", "format": "date-time"},
            "cu_before": {"type": "string", "format": "decimal"},
            "cu_after": {"type": "string", "format": "decimal"},
        },
    },
}


class RedispatchSerializer(serializers.Serializer):
    redispatch = serializers.IntegerField(source="pk")
    run = serializers.IntegerField(source="run_id")
    sequence = serializers.IntegerField()
    event = WireJSONField(
        quantities=REDISPATCH_QUANTITIES,
        help_text="The event as reported: its interval in JST, quantities as decimal strings.",
    )
    changes = serializers.SerializerMethodField()
    elapsed_ms = serializers.IntegerField()
    result_sha256 = serializers.CharField()

    @extend_schema_field(_CHANGE_SCHEMA)
    def get_changes(self, record) -> list[dict]:
        """Each amended placement. The engine counts the re-solved interval by its index in
        the snapshot; people and clients get the interval's start instead (JST)."""
        start = wire_instant(record.run.interval_start)
        changes = []
        for change in record.changes:
            shown = {k: v for k, v in change.items() if k != "interval"}
            shown["interval_start"] = start
            changes.append(wire_json(shown, quantities=REDISPATCH_QUANTITIES))
        return changes


class ReplayVerdictSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    ok = serializers.BooleanField()
    input_ok = serializers.BooleanField()
    expected_sha256 = serializers.CharField()
    actual_sha256 = serializers.CharField()
    first_difference = serializers.CharField(allow_blank=True)
    run_solver = serializers.CharField(help_text="the solver backend that cleared the run")
    replay_solver = serializers.CharField(help_text="the different backend that re-solved it")
