"""Market API: thin views — check input types, call one service, render the result."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aggregator.platform.access import request_actor
from aggregator.platform.api.mixins import ActorMixin
from aggregator.platform.errors import InvalidInput
from market import calendar, selectors, services
from market.api import filters as f
from market.api import serializers as s
from market.choices import BidType
from market.idempotency import idempotent
from market.models import CapacityOffer, EnergyOffer, WorkloadBid
from market.services import signals as signal_services
from operators.models import GridArea


class _BidViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your own bids only: bids are sealed until cleared, even from regulators and staff."""

    bid_type: str = ""
    in_serializer = None

    def _input(self, request, partial: bool) -> dict:
        data = self.in_serializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _out(self, bid, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(bid).data, status=code)

    @idempotent
    def create(self, request):
        bid = services.bid_submit(
            actor=self.actor, bid_type=self.bid_type, data=self._input(request, partial=False)
        )
        return self._out(bid, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        """Amend: a new revision; refused (409) after the first interval's gate closure."""
        bid = services.bid_amend(
            actor=self.actor, bid=self.get_object(), changes=self._input(request, partial=True)
        )
        return self._out(bid)

    def destroy(self, request, pk=None):
        """Cancel (the bid is kept, with status `cancelled`); refused after gate closure."""
        return self._out(services.bid_cancel(actor=self.actor, bid=self.get_object()))

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Cancel, as a POST for clients that cannot send DELETE."""
        return self._out(services.bid_cancel(actor=self.actor, bid=self.get_object()))

    @extend_schema(responses=s.BidRevisionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def revisions(self, request, pk=None):
        """Every revision of this bid, oldest first."""
        bid = self.get_object()
        revisions = selectors.bid_revision_list(
            actor=self.actor, bid_type=self.bid_type, bid_id=bid.pk
        )
        return Response(s.BidRevisionSerializer(revisions, many=True).data)


@extend_schema(request=s.CapacityOfferInSerializer)
@extend_schema_view(
    destroy=extend_schema(responses=s.CapacityOfferSerializer)
)  # cancels; the bid stays
class CapacityOfferViewSet(_BidViewSet):
    """Capacity offers of your compute sites (CU and JPY/CU-h per interval)."""

    bid_type = BidType.CAPACITY
    serializer_class = s.CapacityOfferSerializer
    in_serializer = s.CapacityOfferInSerializer
    filterset_class = f.CapacityOfferFilter
    model = CapacityOffer
    selector = staticmethod(selectors.capacity_offer_list)


@extend_schema(request=s.EnergyOfferInSerializer)
@extend_schema_view(
    destroy=extend_schema(responses=s.EnergyOfferSerializer)
)  # cancels; the bid stays
class EnergyOfferViewSet(_BidViewSet):
    """Energy offers per area (kWh and JPY/kWh per interval; curtailment relief may be ≤ 0)."""

    bid_type = BidType.ENERGY
    serializer_class = s.EnergyOfferSerializer
    in_serializer = s.EnergyOfferInSerializer
    filterset_class = f.EnergyOfferFilter
    model = EnergyOffer
    selector = staticmethod(selectors.energy_offer_list)


@extend_schema(request=s.WorkloadBidInSerializer)
@extend_schema_view(
    destroy=extend_schema(responses=s.WorkloadBidSerializer)
)  # cancels; the bid stays
class WorkloadBidViewSet(_BidViewSet):
    """Workload bids: inference (demand per interval) or batch (CU-intervals in a window)."""

    bid_type = BidType.WORKLOAD
    serializer_class = s.WorkloadBidSerializer
    in_serializer = s.WorkloadBidInSerializer
    filterset_class = f.WorkloadBidFilter
    model = WorkloadBid
    selector = staticmethod(selectors.workload_bid_list)


class BulkBidViewSet(viewsets.GenericViewSet):
    """Submit up to 10,000 bids in one request: all or nothing, errors per item index."""

    serializer_class = s.BulkInSerializer

    @extend_schema(request=s.BulkInSerializer, responses={201: s.BulkResultSerializer})
    @idempotent
    def create(self, request):
        body = request.data
        items = body.get("bids") if isinstance(body, dict) else None
        bids = services.bids_submit_bulk(actor=request_actor(request), items=items)
        return Response(
            {"count": len(bids), "bids": [b.public_id for b in bids], "status": "submitted"},
            status=status.HTTP_201_CREATED,
        )


class SignalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Grid signals per area and interval (public to participants); publishers POST series.

    Power suppliers publish curtailment forecasts; the market operator area caps, prices
    and carbon. Later publications supersede earlier ones for the same interval.
    """

    serializer_class = s.SignalSerializer
    filterset_class = f.SignalFilter

    def get_queryset(self):
        return selectors.signal_list().select_related("publisher")

    @extend_schema(
        request=s.SignalPublishSerializer, responses={201: s.SignalSerializer(many=True)}
    )
    @idempotent
    def create(self, request):
        data = s.SignalPublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = signal_services.signal_publish(
            actor=request_actor(request),
            kind=data.validated_data["kind"],
            area=data.validated_data.get("area"),
            values=data.validated_data["values"],
            source=data.validated_data.get("source", ""),
        )
        return Response(s.SignalSerializer(rows, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[s.BestWindowsQuerySerializer], responses=s.BestWindowsSerializer)
    @action(detail=False, methods=["get"], url_path="best-windows", filterset_class=None)
    def best_windows(self, request):
        """The cheapest (or cleanest) contiguous window of `hours` per area within `within` h."""
        query = s.BestWindowsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        areas = [a.strip() for a in q["areas"].split(",") if a.strip()]
        known = set(GridArea.objects.values_list("code", flat=True))
        if unknown := sorted(set(areas) - known):
            raise InvalidInput.from_errors(
                {"areas": [_("Unknown area(s): %(a)s.") % {"a": ", ".join(unknown)}]}
            )
        start = calendar.floor_interval(q.get("start") or timezone.now())
        windows, missing = selectors.best_windows(
            areas=areas, hours=q["hours"], within_hours=q["within"], metric=q["metric"], start=start
        )
        # Through the serializer, so that `from` is JST and the hours decimal strings.
        return Response(
            s.BestWindowsSerializer(
                {
                    "metric": q["metric"],
                    "unit": "JPY/kWh" if q["metric"] == "price" else "gCO2/kWh",
                    "hours": q["hours"],
                    "from": start,
                    "within_hours": q["within"],
                    "windows": windows,
                    "best": windows[0] if windows else None,
                    "no_data": missing,
                }
            ).data
        )

    @extend_schema(responses=s.InterconnectorSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def interconnectors(self, request):
        """Inter-area interconnector capacities (OCCTO operational values, reference data)."""
        return Response(list(selectors.interconnectors()))
