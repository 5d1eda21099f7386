"""The VTN's endpoints (OpenADR 3.1.1 OpenAPI document, paths under /openadr3/). Each view
checks types, calls one selector or service and renders the spec's object."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aggregator.openadr import payloads, selectors
from aggregator.openadr.api import serializers as s
from aggregator.openadr.api.auth import SpecScopes, VenTokenAuthentication
from aggregator.openadr.choices import OadrScope as S
from aggregator.openadr.services import reports as report_services
from aggregator.openadr.services import subscriptions as subscription_services
from aggregator.openadr.services import vens as ven_services
from aggregator.platform.api.problems import problem_exception_handler
from aggregator.platform.errors import Conflict

READ_TARGETS = (S.READ_TARGETS, S.READ_ALL)
READ_OWN = (S.READ_VEN_OBJECTS, S.READ_ALL)


def _vtn_exception_handler(exc, context):
    # The project's problem details, with the media type the OpenADR document declares.
    response = problem_exception_handler(exc, context)
    if response is not None:
        response.content_type = "application/json"
    return response


class VtnView(APIView):
    # Described by the OpenADR 3.1.1 document, not by wattbit's own OpenAPI schema.
    schema = None
    authentication_classes = [VenTokenAuthentication]
    permission_classes = [SpecScopes]
    renderer_classes = [JSONRenderer]
    scopes: dict[str, tuple[str, ...]] = {}

    def get_exception_handler(self):
        return _vtn_exception_handler

    @property
    def actor(self):
        return self.request.user.actor

    @property
    def client(self):
        return self.request.openadr_client

    def page(self) -> selectors.Page:
        try:
            skip = int(self.request.query_params.get("skip", 0))
            limit = int(self.request.query_params.get("limit", 50))
        except ValueError:
            raise exceptions.ValidationError(
                {"skip": [_("skip and limit are integers.")]}
            ) from None
        if skip < 0 or not 0 <= limit <= 50:
            raise exceptions.ValidationError({"limit": [_("skip ≥ 0 and 0 ≤ limit ≤ 50.")]})
        return selectors.Page(skip=skip, limit=limit)

    def paged(self, rows) -> list:
        page = self.page()
        return list(rows[page.skip : page.skip + page.limit])

    def targets(self) -> list[str] | None:
        return self.request.query_params.getlist("targets") or None

    def valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def found(obj):
        if obj is None:
            raise exceptions.NotFound(_("No such object."))
        return obj


class AuthServerView(APIView):
    schema = None
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get(self, request):
        return Response({"tokenURL": request.build_absolute_uri("/openadr3/auth/token")})


class NotifiersView(VtnView):
    scopes = {"GET": (S.READ_ALL, S.READ_TARGETS, S.READ_VEN_OBJECTS)}

    def get(self, request):
        return Response({"WEBHOOK": True})


class ProgramsView(VtnView):
    # Programs are the market's structure: nobody writes them (write_programs is not granted).
    scopes = {"GET": READ_TARGETS, "POST": (S.WRITE_PROGRAMS,)}

    def get(self, request):
        return Response(self.paged(selectors.programs(targets=self.targets())))


class ProgramView(VtnView):
    scopes = {"GET": READ_TARGETS, "PUT": (S.WRITE_PROGRAMS,), "DELETE": (S.WRITE_PROGRAMS,)}

    def get(self, request, program_id: str):
        return Response(self.found(selectors.program_get(program_id)))


class EventsView(VtnView):
    # Events are the clearing's dispatch orders and prices (write_events is not granted).
    scopes = {"GET": READ_TARGETS, "POST": (S.WRITE_EVENTS,)}

    def get(self, request):
        rows = selectors.events(
            actor=self.actor,
            program_id=request.query_params.get("programID"),
            targets=self.targets(),
            page=self.page(),
        )
        return Response(rows)


class EventView(VtnView):
    scopes = {"GET": READ_TARGETS, "PUT": (S.WRITE_EVENTS,), "DELETE": (S.WRITE_EVENTS,)}

    def get(self, request, event_id: str):
        return Response(self.found(selectors.event_get(actor=self.actor, event_id=event_id)))


class ReportsView(VtnView):
    scopes = {"GET": READ_OWN, "POST": (S.WRITE_REPORTS,)}

    def get(self, request):
        rows = selectors.report_list(
            client=self.client, event_id=request.query_params.get("eventID")
        )
        if name := request.query_params.get("clientName"):
            rows = rows.filter(client_name=name)
        return Response([payloads.report(r) for r in self.paged(rows)])

    def post(self, request):
        row = report_services.report_create(
            actor=self.actor, client=self.client, data=self.valid(s.ReportIn)
        )
        return Response(payloads.report(row), status=status.HTTP_201_CREATED)


class ReportView(VtnView):
    scopes = {"GET": READ_OWN, "PUT": (S.WRITE_REPORTS,), "DELETE": (S.WRITE_REPORTS,)}

    def get(self, request, report_id: str):
        row = self.found(selectors.report_get(client=self.client, report_id=report_id))
        return Response(payloads.report(row))

    # A report's effects (an acknowledgement, meter readings) are on the record and audited:
    # they change only as REST changes them, by a new report (a new reading revision).
    def put(self, request, report_id: str):
        self.found(selectors.report_get(client=self.client, report_id=report_id))
        raise Conflict(_("A report is kept as sent; send a new report instead."))

    def delete(self, request, report_id: str):
        self.found(selectors.report_get(client=self.client, report_id=report_id))
        raise exceptions.PermissionDenied(_("Reports are kept: they are part of the record."))


class SubscriptionsView(VtnView):
    scopes = {"GET": READ_OWN, "POST": (S.WRITE_SUBSCRIPTIONS,)}

    def get(self, request):
        rows = selectors.subscription_list(client=self.client)
        if program := request.query_params.get("programID"):
            rows = rows.filter(program_id=program)
        return Response([payloads.subscription(r) for r in self.paged(rows)])

    def post(self, request):
        row = subscription_services.subscription_create(
            actor=self.actor, client=self.client, data=self.valid(s.SubscriptionIn)
        )
        return Response(payloads.subscription(row), status=status.HTTP_201_CREATED)


class SubscriptionView(VtnView):
    scopes = {
        "GET": READ_OWN,
        "PUT": (S.WRITE_SUBSCRIPTIONS,),
        "DELETE": (S.WRITE_SUBSCRIPTIONS,),
    }

    def _row(self, subscription_id: str):
        return self.found(
            selectors.subscription_get(client=self.client, subscription_id=subscription_id)
        )

    def get(self, request, subscription_id: str):
        return Response(payloads.subscription(self._row(subscription_id)))

    def put(self, request, subscription_id: str):
        row = subscription_services.subscription_update(
            actor=self.actor,
            subscription=self._row(subscription_id),
            data=self.valid(s.SubscriptionIn),
        )
        return Response(payloads.subscription(row))

    def delete(self, request, subscription_id: str):
        row = subscription_services.subscription_delete(
            actor=self.actor, subscription=self._row(subscription_id)
        )
        return Response(payloads.subscription(row))


class VensView(VtnView):
    scopes = {"GET": READ_OWN, "POST": (S.WRITE_VENS,)}

    def get(self, request):
        rows = selectors.ven_list(client=self.client, ven_name=request.query_params.get("venName"))
        return Response([payloads.ven(r) for r in self.paged(rows)])

    def post(self, request):
        row = ven_services.ven_create(
            actor=self.actor, client=self.client, data=self.valid(s.VenIn)
        )
        return Response(payloads.ven(row), status=status.HTTP_201_CREATED)


class VenView(VtnView):
    scopes = {"GET": READ_OWN, "PUT": (S.WRITE_VENS,), "DELETE": (S.WRITE_VENS,)}

    def _row(self, ven_id: str):
        return self.found(selectors.ven_get(client=self.client, ven_id=ven_id))

    def get(self, request, ven_id: str):
        return Response(payloads.ven(self._row(ven_id)))

    def put(self, request, ven_id: str):
        row = ven_services.ven_update(
            actor=self.actor, ven=self._row(ven_id), data=self.valid(s.VenIn)
        )
        return Response(payloads.ven(row))

    def delete(self, request, ven_id: str):
        row = self._row(ven_id)
        body = payloads.ven(row)
        ven_services.ven_delete(actor=self.actor, ven=row)
        return Response(body)


class ResourcesView(VtnView):
    scopes = {"GET": READ_OWN, "POST": (S.WRITE_VENS,)}

    def get(self, request):
        rows = selectors.resource_list(client=self.client, ven_id=request.query_params.get("venID"))
        if name := request.query_params.get("resourceName"):
            rows = rows.filter(resource_name=name)
        return Response([payloads.resource(r) for r in self.paged(rows)])

    def post(self, request):
        data = self.valid(s.ResourceIn)
        ven = self.found(selectors.ven_get(client=self.client, ven_id=data["venID"]))
        row = ven_services.resource_create(actor=self.actor, ven=ven, data=data)
        return Response(payloads.resource(row), status=status.HTTP_201_CREATED)


class ResourceView(VtnView):
    scopes = {"GET": READ_OWN, "PUT": (S.WRITE_VENS,), "DELETE": (S.WRITE_VENS,)}

    def _row(self, resource_id: str):
        return self.found(selectors.resource_get(client=self.client, resource_id=resource_id))

    def get(self, request, resource_id: str):
        return Response(payloads.resource(self._row(resource_id)))

    def put(self, request, resource_id: str):
        row = ven_services.resource_update(
            actor=self.actor, resource=self._row(resource_id), data=self.valid(s.ResourceIn)
        )
        return Response(payloads.resource(row))

    def delete(self, request, resource_id: str):
        row = self._row(resource_id)
        body = payloads.resource(row)
        ven_services.resource_delete(actor=self.actor, resource=row)
        return Response(body)
