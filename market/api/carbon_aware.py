"""Carbon-aware windows shaped like the Carbon Aware SDK WebAPI (v1), under
/api/v1/carbon-aware/.

A scheduler that speaks the SDK's WebAPI points its base URL at `/api/v1/carbon-aware` and calls
`/emissions/forecasts/current` and `/emissions/bylocations/best` unchanged: the same query
parameters (`location` repeated, `dataStartAt`, `dataEndAt`, `windowSize` in minutes;
`time`, `toTime`, `duration`) and the same response shapes (EmissionsForecastDTO,
EmissionsData). The values come from the market's public signals (market/carbon_aware.py),
so these endpoints need no API key, like the SDK's; the anonymous rate limit applies.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from aggregator.platform.api.fields import InstantField
from aggregator.platform.errors import InvalidInput
from market import calendar, carbon_aware
from market.carbon_aware_locations import LOCATIONS, area_of

MAX_LOCATIONS = 20
MAX_SPAN = timedelta(days=7)
DEFAULT_SPAN = timedelta(hours=24)
POINT_MINUTES = 30


class ForecastQuery(serializers.Serializer):
    dataStartAt = InstantField(required=False)
    dataEndAt = InstantField(required=False)
    windowSize = serializers.IntegerField(required=False, min_value=1)


class BestQuery(serializers.Serializer):
    time = InstantField(required=False)
    toTime = InstantField(required=False)
    duration = serializers.IntegerField(required=False, min_value=1)


class EmissionsDataDTO(serializers.Serializer):
    """One data point of a forecast: a window's start, length (minutes) and mean rating."""

    location = serializers.CharField()
    timestamp = serializers.DateTimeField()
    duration = serializers.IntegerField(help_text="minutes")
    value = serializers.FloatField(help_text="gCO2/kWh")


class EmissionsForecastDTO(serializers.Serializer):
    generatedAt = serializers.DateTimeField()
    requestedAt = serializers.DateTimeField()
    location = serializers.CharField()
    dataStartAt = serializers.DateTimeField()
    dataEndAt = serializers.DateTimeField()
    windowSize = serializers.IntegerField(help_text="minutes")
    optimalDataPoints = EmissionsDataDTO(many=True)
    forecastData = EmissionsDataDTO(many=True)


class EmissionsData(serializers.Serializer):
    location = serializers.CharField()
    time = serializers.DateTimeField()
    rating = serializers.FloatField(help_text="gCO2/kWh")
    duration = serializers.CharField(help_text="hh:mm:ss")


LOCATION_PARAMETER = OpenApiParameter(
    "location",
    OpenApiTypes.STR,
    many=True,
    explode=True,
    required=True,
    description="a location name (repeat it, or separate names by commas); see /api/v1/carbon-aware/locations",
)


def _locations(request) -> list[tuple[str, str]]:
    """(name as given, area) per requested location; unknown names refused, listing valid ones."""
    given = request.query_params.getlist("location") or request.query_params.getlist("locations")
    names = [n.strip() for value in given for n in value.split(",") if n.strip()]
    if not names:
        raise InvalidInput.from_errors({"location": [_("Name at least one location.")]})
    if len(names) > MAX_LOCATIONS:
        raise InvalidInput.from_errors(
            {"location": [_("At most %(n)d locations per request.") % {"n": MAX_LOCATIONS}]}
        )
    unknown = [n for n in names if area_of(n) is None]
    if unknown:
        raise InvalidInput.from_errors(
            {
                "location": [
                    _("Unknown location(s): %(unknown)s. Valid names: %(valid)s.")
                    % {
                        "unknown": ", ".join(n[:40] for n in unknown[:5]),
                        "valid": ", ".join(sorted(LOCATIONS)),
                    }
                ]
            }
        )
    return [(n, area_of(n)) for n in dict.fromkeys(names)]


def _intervals(minutes: int | None, field: str) -> int:
    minutes = POINT_MINUTES if minutes is None else minutes
    if minutes % POINT_MINUTES:
        raise InvalidInput.from_errors(
            {field: [_("Give minutes in whole 30-minute intervals (30, 60, 90, …).")]}
        )
    return minutes // POINT_MINUTES


def _range(start: datetime, end: datetime, window: int, fields: tuple[str, str]) -> int:
    """How many intervals [start, end) holds, at least one window and at most seven days."""
    if end <= start:
        raise InvalidInput.from_errors({fields[1]: [_("Give an end after the start.")]})
    if end - start > MAX_SPAN:
        raise InvalidInput.from_errors({fields[1]: [_("Ask for at most seven days at once.")]})
    count = int((end - start) / calendar.INTERVAL)
    if count < window:
        raise InvalidInput.from_errors({fields[1]: [_("The range is shorter than one window.")]})
    return count


def _point(p: carbon_aware.DataPoint) -> dict:
    return {"location": p.location, "timestamp": p.start, "duration": p.minutes,
            "value": float(p.rating)}  # fmt: skip


class CurrentForecastView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="carbon_aware_forecasts_current",
        parameters=[LOCATION_PARAMETER, ForecastQuery],
        responses=EmissionsForecastDTO(many=True),
        tags=["carbon-aware"],
    )
    def get(self, request):
        """The current forecast per location, with its optimal windows (Carbon Aware SDK's
        GET /emissions/forecasts/current). Default range: the current interval and 24 h on."""
        locations = _locations(request)
        query = ForecastQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        now = timezone.now()
        window = _intervals(q.get("windowSize"), "windowSize")
        start = calendar.ceil_interval(q.get("dataStartAt") or calendar.floor_interval(now))
        end = q.get("dataEndAt") or start + DEFAULT_SPAN
        count = _range(start, end, window, ("dataStartAt", "dataEndAt"))
        out = []
        for name, area in locations:
            f = carbon_aware.forecast(
                location=name,
                area=area,
                start=start,
                count=count,
                window_intervals=window,
                now=now,
            )
            out.append(
                {
                    "generatedAt": f.generated_at,
                    "requestedAt": now,
                    "location": name,
                    "dataStartAt": f.data_start_at,
                    "dataEndAt": f.data_end_at,
                    "windowSize": f.window_minutes,
                    "optimalDataPoints": [_point(p) for p in f.optimal],
                    "forecastData": [_point(p) for p in f.points],
                }
            )
        return Response(EmissionsForecastDTO(out, many=True).data)


class BestByLocationsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="carbon_aware_bylocations_best",
        parameters=[LOCATION_PARAMETER, BestQuery],
        responses=EmissionsData(many=True),
        tags=["carbon-aware"],
    )
    def get(self, request):
        """The best-rated window over the locations and the time range (Carbon Aware SDK's
        GET /emissions/bylocations/best); several when they tie. Default range: the last 24 h
        up to the current interval; `duration` (minutes) is the window, default 30."""
        locations = _locations(request)
        query = BestQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        window = _intervals(q.get("duration"), "duration")
        end = q.get("toTime") or calendar.ceil_interval(timezone.now())
        start = calendar.ceil_interval(q.get("time") or end - DEFAULT_SPAN)
        count = _range(start, end, window, ("time", "toTime"))
        points = [
            p
            for name, area in locations
            for p in carbon_aware.windows(
                location=name, area=area, start=start, count=count, window_intervals=window
            )
        ]
        best = carbon_aware.optimal(points)
        rows = [
            {"location": p.location, "time": p.start, "rating": float(p.rating),
             "duration": str(timedelta(minutes=p.minutes)).zfill(8)}
            for p in best
        ]  # fmt: skip
        return Response(EmissionsData(rows, many=True).data)


class LocationsView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="carbon_aware_locations",
        responses={200: {"type": "object", "additionalProperties": {"type": "string"}}},
        tags=["carbon-aware"],
    )
    def get(self, request):
        """Every location name accepted, with the JEPX area it maps to."""
        return Response(dict(sorted(LOCATIONS.items())))
