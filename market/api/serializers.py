"""Market API shapes: input types are checked here, market rules in the services."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aggregator.platform.api.fields import (
    DecimalTextField,
    DecimalTextListField,
    FiniteFloatField,
    InstantField,
    WireJSONField,
)
from market import calendar
from market.choices import BidStatus, SignalKind, WorkloadKind
from market.models import BidRevision, CapacityOffer, EnergyOffer, Signal, WorkloadBid
from market.selectors import cleared_through
from operators.choices import Accelerator


class _BidOut(serializers.ModelSerializer):
    id = serializers.IntegerField(read_only=True)
    public_id = serializers.CharField(read_only=True)
    is_frozen = serializers.SerializerMethodField()
    start_jst = serializers.SerializerMethodField()

    common = ("id", "public_id", "status", "revision", "start", "end", "start_jst",
              "interval_count", "gate_closure", "is_frozen", "created_at", "updated_at",
              "cancelled_at")  # fmt: skip

    def get_is_frozen(self, bid) -> bool:
        """Whether amend and cancel would be refused now (outcome known, gate closed, or
        the clearing already past its first interval)."""
        if "cleared_through" not in self.context:  # once per response, not once per bid
            self.context["cleared_through"] = cleared_through()
        return bid.is_frozen(cleared_through=self.context["cleared_through"])

    def get_start_jst(self, bid) -> str:
        return calendar.to_jst(bid.start).isoformat()


# Quantities of a bid's stored content: decimal strings in the API even where a whole
# number is stored as a JSON integer (docs/api.md).
BID_QUANTITIES = frozenset({
    "cu", "kwh", "price", "demand", "limit_price", "remaining_cu_intervals", "max_cu",
    "migration_cost", "carbon_g_per_kwh",
})  # fmt: skip


class CapacityOfferSerializer(_BidOut):
    site = serializers.SlugRelatedField(slug_field="code", read_only=True)
    cu = DecimalTextListField(help_text="CU offered, one decimal string per interval")
    price = DecimalTextListField(help_text="JPY/CU-h, one decimal string per interval")

    class Meta:
        model = CapacityOffer
        fields = (*_BidOut.common, "site", "cu", "price")


class EnergyOfferSerializer(_BidOut):
    kwh = DecimalTextListField(help_text="kWh offered, one decimal string per interval")
    price = DecimalTextListField(help_text="JPY/kWh, one decimal string per interval")

    class Meta:
        model = EnergyOffer
        fields = (*_BidOut.common, "area", "kwh", "price", "carbon_g_per_kwh", "curtailment_relief")


class WorkloadBidSerializer(_BidOut):
    home_site = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    demand = DecimalTextListField(
        allow_null=True, help_text="CU per interval (inference), decimal strings"
    )

    class Meta:
        model = WorkloadBid
        fields = (
            *_BidOut.common, "kind", "accelerator", "residency_tags", "limit_price", "zone",
            "max_latency_ms", "demand", "remaining_cu_intervals", "max_cu", "gang",
            "no_migration", "migration_cost", "home_site", "allowed_areas",
        )  # fmt: skip


class _BidIn(serializers.Serializer):
    """The shape (types, enums, what a new bid must give; an amendment — PATCH — may give any
    subset). Market rules live in market.validation (per-field errors)."""

    start = serializers.CharField(help_text="ISO 8601 with a timezone, on :00 or :30")
    intervals = serializers.IntegerField()


class CapacityOfferInSerializer(_BidIn):
    site = serializers.CharField()
    cu = serializers.JSONField(help_text="number or list, one per interval")
    price = serializers.JSONField(help_text="JPY/CU-h; number or list")


class EnergyOfferInSerializer(_BidIn):
    area = serializers.CharField()
    kwh = serializers.JSONField()
    price = serializers.JSONField(help_text="JPY/kWh; may be 0 or negative")
    carbon_g_per_kwh = serializers.DecimalField(max_digits=8, decimal_places=2)
    curtailment_relief = serializers.BooleanField(required=False)


class WorkloadBidInSerializer(_BidIn):
    kind = serializers.ChoiceField(
        choices=WorkloadKind.choices,
        error_messages={"invalid_choice": _("Choose one of: inference, batch.")},
    )
    accelerator = serializers.ChoiceField(
        choices=Accelerator.choices,
        error_messages={"invalid_choice": _("Unknown accelerator class '{input}'.")},
    )
    residency_tags = serializers.ListField(child=serializers.CharField(), required=False)
    limit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    zone = serializers.CharField(required=False, allow_null=True)
    max_latency_ms = serializers.IntegerField(required=False, allow_null=True)
    demand = serializers.JSONField(required=False)
    remaining_cu_intervals = serializers.DecimalField(
        max_digits=14, decimal_places=3, required=False
    )
    max_cu = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, allow_null=True
    )
    gang = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    no_migration = serializers.BooleanField(required=False)
    migration_cost = serializers.DecimalField(max_digits=12, decimal_places=4, required=False)
    home_site = serializers.CharField(required=False, allow_null=True)
    allowed_areas = serializers.ListField(child=serializers.CharField(), required=False)


class BulkInSerializer(serializers.Serializer):
    bids = serializers.ListField(
        child=serializers.DictField(),
        help_text="Each bid with a `type` (capacity, energy, workload) and its fields.",
    )


class BidRevisionSerializer(serializers.ModelSerializer):
    data = WireJSONField(
        quantities=BID_QUANTITIES,
        help_text="The bid as submitted: instants in JST, quantities as decimal strings.",
    )

    class Meta:
        model = BidRevision
        fields = ("revision", "status", "data", "content_sha256", "actor_label", "created_at")


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    bids = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=BidStatus.choices)


class SignalSerializer(serializers.ModelSerializer):
    # Plain strings: a second enum named "kind" (besides the workload kind) would collide in
    # the OpenAPI schema.
    kind = serializers.CharField(read_only=True, help_text=", ".join(SignalKind.values))
    publisher = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Signal
        fields = ("kind", "area", "interval_start", "value", "source", "published_at", "publisher")


class SignalPointSerializer(serializers.Serializer):
    interval_start = InstantField()
    value = serializers.DecimalField(max_digits=14, decimal_places=4)


class SignalPublishSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=", ".join(SignalKind.values))
    area = serializers.CharField(required=False, allow_null=True)
    source = serializers.CharField(required=False, max_length=60)
    values = SignalPointSerializer(many=True)


class BestWindowsQuerySerializer(serializers.Serializer):
    areas = serializers.CharField(help_text="comma-separated area codes")
    hours = FiniteFloatField(min_value=0.5, max_value=48)
    within = FiniteFloatField(min_value=0.5, max_value=14 * 24, default=24)
    metric = serializers.ChoiceField(choices=["price", "carbon"], default="price")
    start = InstantField(required=False, help_text="default: the current interval")


class WindowSerializer(serializers.Serializer):
    area = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    mean = serializers.DecimalField(max_digits=14, decimal_places=4)


class BestWindowsSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["price", "carbon"])
    unit = serializers.CharField()
    hours = DecimalTextField()
    # "from" is a Python keyword: declared below.
    within_hours = DecimalTextField()
    windows = WindowSerializer(many=True, help_text="best first")
    best = WindowSerializer(allow_null=True)
    no_data = serializers.ListField(child=serializers.CharField(), help_text="areas without data")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField()
        return fields


class InterconnectorSerializer(serializers.Serializer):
    """An inter-area interconnector (OCCTO operational capacities, reference data)."""

    link_id = serializers.CharField()
    name_en = serializers.CharField()
    name_ja = serializers.CharField()
    type = serializers.CharField()
    area_a = serializers.CharField()
    area_b = serializers.CharField()
    forward_direction = serializers.CharField()
    notes = serializers.CharField(allow_blank=True)
    fwd_max_mw = serializers.IntegerField(allow_null=True)
    fwd_median_mw = serializers.IntegerField(allow_null=True)
    rev_max_mw = serializers.IntegerField(allow_null=True)
    rev_median_mw = serializers.IntegerField(allow_null=True)
    nominal_facility_mw = serializers.IntegerField(allow_null=True)
