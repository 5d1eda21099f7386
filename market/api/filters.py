"""Filters of the market API: interval range, status, kind, area."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from aggregator.platform.instants import InstantFilter
from market.choices import BidStatus, SignalKind, WorkloadKind
from market.models import CapacityOffer, EnergyOffer, Signal, WorkloadBid


class _BidFilter(django_filters.FilterSet):
    # Bids overlapping [interval_from, interval_to).
    interval_from = InstantFilter(field_name="end", lookup_expr="gt")
    interval_to = InstantFilter(field_name="start", lookup_expr="lt")
    status = django_filters.MultipleChoiceFilter(choices=BidStatus.choices)


class CapacityOfferFilter(_BidFilter):
    area = django_filters.CharFilter(field_name="site__area_id")
    site = django_filters.CharFilter(field_name="site__code")

    class Meta:
        model = CapacityOffer
        fields = ["status", "area", "site"]


class EnergyOfferFilter(_BidFilter):
    area = django_filters.CharFilter(field_name="area_id")

    class Meta:
        model = EnergyOffer
        fields = ["status", "area", "curtailment_relief"]


class WorkloadBidFilter(_BidFilter):
    kind = django_filters.ChoiceFilter(choices=WorkloadKind.choices)
    area = django_filters.CharFilter(method="filter_area", label="area")

    class Meta:
        model = WorkloadBid
        fields = ["status", "kind", "area", "accelerator"]

    def filter_area(self, queryset, name, value):
        # A workload "is in" an area if it may run there or its users are there.
        return queryset.filter(
            Q(allowed_areas_text__contains=f",{value},")
            | Q(zone__area_id=value)
            | Q(home_site__area_id=value)
        )


class SignalFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(help_text=", ".join(SignalKind.values))
    area = django_filters.CharFilter(field_name="area_id")
    interval_from = InstantFilter(field_name="interval_start", lookup_expr="gte")
    interval_to = InstantFilter(field_name="interval_start", lookup_expr="lt")
    source = django_filters.CharFilter()

    class Meta:
        model = Signal
        fields = ["kind", "area", "source"]
