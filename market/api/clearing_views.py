"""Clearing runs, public results, own allocations, orders and acknowledgements, events."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from aggregator.platform.access import request_actor
from aggregator.platform.api.mixins import ActorMixin
from aggregator.platform.errors import InvalidInput, NotFound
from aggregator.platform.instants import InstantError, InstantFilter, parse_instant
from aggregator.platform.public_ids import public_id_pk
from market import calendar, clearing_selectors
from market.api import clearing_serializers as cs
from market.idempotency import idempotent
from market.models import EnergyOffer
from market.models.clearing import Allocation, CapacitySale, EnergyAward
from market.models.dispatch import DispatchOrder, OrderDelivery
from market.services.dispatch import order_acknowledge
from market.services.redispatch import redispatch_energy_offer, redispatch_site_outage
from market.tasks import push_orders
from operators.models import Site


class IntervalFilter(django_filters.FilterSet):
    interval = InstantFilter(field_name="interval_start")
    interval_from = InstantFilter(field_name="interval_start", lookup_expr="gte")
    interval_to = InstantFilter(field_name="interval_start", lookup_expr="lt")


class ResultsView(APIView):
    """Public results per interval and area: prices and volumes, never individual bids."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="default: 24 h ago"),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="default: from + 48 h"),
        ],
        responses=cs.PublicResultSerializer(many=True),
    )
    def get(self, request):
        errors: dict[str, list[str]] = {}

        def instant(name: str):
            text = request.query_params.get(name)
            if not text:
                return None
            try:
                return parse_instant(text)
            except InstantError as exc:
                errors[name] = [str(exc)]
                return None

        start, end = instant("from"), instant("to")
        if errors:
            raise InvalidInput.from_errors(errors)
        start = start or calendar.floor_interval(timezone.now()) - 24 * calendar.INTERVAL
        end = end or start + 96 * calendar.INTERVAL
        if end <= start or end - start > 31 * 48 * calendar.INTERVAL:
            raise InvalidInput.from_errors({"to": [_("Give 'to' after 'from', at most 31 days.")]})
        rows = clearing_selectors.public_results(start=start, end=end)
        return Response(cs.PublicResultSerializer(rows, many=True).data)


class AdvisoryView(APIView):
    """Your own advisory schedule from the newest run. Advisory intervals are still sealed:
    no prices and nothing of anyone else's bids (docs/market.md)."""

    @extend_schema(responses=cs.AdvisorySerializer)
    def get(self, request):
        data = clearing_selectors.latest_advisory(actor=request_actor(request))
        if data is None:
            raise NotFound(_("Nothing has been cleared yet."))
        return Response(cs.AdvisorySerializer(data).data)


class AllocationFilter(IntervalFilter):
    class Meta:
        model = Allocation
        fields = ["run"]


class AllocationViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your firm allocations: your workloads' placements and what runs at your sites."""

    model = Allocation
    selector = staticmethod(clearing_selectors.allocation_list)
    serializer_class = cs.AllocationSerializer
    filterset_class = AllocationFilter


class CapacitySaleFilter(IntervalFilter):
    class Meta:
        model = CapacitySale
        fields = ["run"]


class CapacitySaleViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """CU each of your capacity offers sold in firm intervals (each offer is one price step
    of its site, paid the site's compute price on its own quantity)."""

    model = CapacitySale
    selector = staticmethod(clearing_selectors.capacity_sale_list)
    serializer_class = cs.CapacitySaleSerializer
    filterset_class = CapacitySaleFilter


class EnergyAwardFilter(IntervalFilter):
    class Meta:
        model = EnergyAward
        fields = ["run"]


class EnergyAwardViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Energy taken from your offers in firm intervals."""

    model = EnergyAward
    selector = staticmethod(clearing_selectors.energy_award_list)
    serializer_class = cs.EnergyAwardSerializer
    filterset_class = EnergyAwardFilter


class OrderFilter(IntervalFilter):
    current = django_filters.BooleanFilter(field_name="is_current")

    class Meta:
        model = DispatchOrder
        fields = ["kind", "ack_state", "run"]


class OrderViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your dispatch orders, every version; acknowledge each current one."""

    model = DispatchOrder
    selector = staticmethod(clearing_selectors.order_list)
    serializer_class = cs.DispatchOrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related(
            Prefetch("deliveries", queryset=OrderDelivery.objects.only("state", "order_id"))
        )

    @extend_schema(request=cs.AcknowledgeSerializer, responses=cs.DispatchOrderSerializer)
    @action(detail=True, methods=["post"])
    @idempotent
    def acknowledge(self, request, pk=None):
        """Accept, or reject with a reason. Repeating the same answer changes nothing."""
        data = cs.AcknowledgeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_acknowledge(
            actor=self.actor,
            order=self.get_object(),
            accept=data.validated_data["decision"] == "accept",
            reason=data.validated_data.get("reason", ""),
        )
        return Response(cs.DispatchOrderSerializer(order).data)

    @extend_schema(responses=cs.OrderDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def deliveries(self, request, pk=None):
        """Push state per webhook endpoint, with every attempt."""
        order = self.get_object()
        rows = clearing_selectors.delivery_list(actor=self.actor, order=order)
        return Response(cs.OrderDeliverySerializer(rows, many=True).data)


class OutageEventView(APIView):
    """A provider's site can deliver less in a firm interval: re-dispatch at once."""

    @extend_schema(request=cs.OutageSerializer, responses={201: cs.RedispatchSerializer})
    @idempotent
    def post(self, request):
        actor = request_actor(request)
        data = cs.OutageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = Site.objects.filter(
            code=data.validated_data["site"], organisation=actor.organisation
        ).first()
        if site is None:
            raise InvalidInput.from_errors({"site": [_("No such site of yours.")]})
        record, order_ids = redispatch_site_outage(
            actor=actor,
            site=site,
            interval_start=data.validated_data["interval"],
            cu_available=data.validated_data["cu_available"],
        )
        if order_ids:  # amended orders go out at once; the relay covers a lost publish
            push_orders.delay(order_ids)
        return Response(cs.RedispatchSerializer(record).data, status=status.HTTP_201_CREATED)


class EnergyOfferEventView(APIView):
    """A supplier's energy offer changes inside a firm interval: re-dispatch at once."""

    @extend_schema(request=cs.EnergyOfferChangeSerializer, responses={201: cs.RedispatchSerializer})
    @idempotent
    def post(self, request):
        actor = request_actor(request)
        data = cs.EnergyOfferChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pk = public_id_pk(data.validated_data["offer"])
        offer = EnergyOffer.objects.filter(pk=pk, organisation=actor.organisation).first()
        if offer is None:
            raise InvalidInput.from_errors({"offer": [_("No such offer of yours.")]})
        record, order_ids = redispatch_energy_offer(
            actor=actor,
            offer=offer,
            interval_start=data.validated_data["interval"],
            kwh=data.validated_data.get("kwh"),
            price=data.validated_data.get("price"),
        )
        if order_ids:  # amended orders go out at once; the relay covers a lost publish
            push_orders.delay(order_ids)
        return Response(cs.RedispatchSerializer(record).data, status=status.HTTP_201_CREATED)
