"""Participants API: thin views that validate types, call one service, render the result."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aggregator.platform.access import Scope, request_actor
from operators import selectors, services
from operators.api import serializers as s
from operators.models import (
    ApiKey,
    DemandZone,
    GridArea,
    Membership,
    Organisation,
    Site,
    WebhookEndpoint,
)


class ActorMixin:
    """Scopes every queryset to the acting organisation through the app's selector."""

    model = None
    selector = None

    @property
    def actor(self):
        return request_actor(self.request)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request actor
            return self.model.objects.none()
        return type(self).selector(actor=self.actor)


class GridAreaViewSet(viewsets.ReadOnlyModelViewSet):
    """The nine JEPX price areas."""

    queryset = GridArea.objects.all()
    serializer_class = s.GridAreaSerializer
    pagination_class = None
    lookup_field = "code"


class DemandZoneViewSet(viewsets.ReadOnlyModelViewSet):
    """Demand zones: where end users are; sites declare latency to them."""

    queryset = DemandZone.objects.all()
    serializer_class = s.DemandZoneSerializer
    pagination_class = None
    lookup_field = "code"


class OrganisationViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your organisation (regulators: every organisation)."""

    serializer_class = s.OrganisationSerializer
    write_scope = Scope.ADMIN

    model = Organisation
    selector = staticmethod(selectors.organisation_list)

    @extend_schema(request=s.OrganisationUpdateSerializer, responses=s.OrganisationSerializer)
    def partial_update(self, request, pk=None):
        organisation = self.get_object()
        data = s.OrganisationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        organisation = services.organisation_update(
            actor=self.actor, organisation=organisation, **data.validated_data
        )
        return Response(s.OrganisationSerializer(organisation).data)

    @extend_schema(responses=s.OrganisationSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request, format=None):  # DefaultRouter adds ".json" routes
        """The organisation you act for."""
        return Response(s.OrganisationSerializer(self.actor.organisation).data)


class MemberViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Members of your organisation and their roles."""

    serializer_class = s.MemberSerializer
    write_scope = Scope.ADMIN
    filterset_fields = ["role"]

    model = Membership
    selector = staticmethod(selectors.member_list)

    @extend_schema(request=s.MemberCreateSerializer, responses={201: s.MemberSerializer})
    def create(self, request):
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_add(
            actor=self.actor, organisation=self.actor.organisation, **data.validated_data
        )
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MemberUpdateSerializer, responses=s.MemberSerializer)
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        data = s.MemberUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_change_role(
            actor=self.actor, membership=membership, role=data.validated_data["role"]
        )
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Deactivate a member: they can no longer log in; their history stays."""
        services.member_deactivate(actor=self.actor, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiKeyFilter(django_filters.FilterSet):
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True
    )


class ApiKeyViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """API keys of your organisation. The secret is shown once, at creation."""

    serializer_class = s.ApiKeySerializer
    write_scope = Scope.ADMIN
    filterset_class = ApiKeyFilter

    model = ApiKey
    selector = staticmethod(selectors.api_key_list)

    @extend_schema(request=s.ApiKeyCreateSerializer, responses={201: s.ApiKeyCreatedSerializer})
    def create(self, request):
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, key = services.api_key_create(actor=self.actor, **data.validated_data)
        body = {**s.ApiKeySerializer(api_key).data, "key": key}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke a key at once; it stays listed with its revocation time."""
        api_key = services.api_key_revoke(actor=self.actor, api_key=self.get_object())
        return Response(s.ApiKeySerializer(api_key).data)


class SiteFilter(django_filters.FilterSet):
    area = django_filters.CharFilter(field_name="area_id")

    class Meta:
        model = Site
        fields = ["area", "accelerator", "is_active"]


class SiteViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your organisation's sites in full (regulators: all sites)."""

    serializer_class = s.SiteSerializer
    filterset_class = SiteFilter

    model = Site
    selector = staticmethod(selectors.site_list)

    @extend_schema(request=s.SiteInputSerializer, responses={201: s.SiteSerializer})
    def create(self, request):
        data = s.SiteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        site = services.site_register(actor=self.actor, **data.validated_data)
        return Response(s.SiteSerializer(site).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SiteInputSerializer, responses=s.SiteSerializer)
    def partial_update(self, request, pk=None):
        site = self.get_object()
        data = s.SiteInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        site = services.site_update(actor=self.actor, site=site, **data.validated_data)
        return Response(s.SiteSerializer(site).data)


class SiteDirectoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every active site as a public summary: id, area, accelerator class, capacity."""

    serializer_class = s.SitePublicSerializer
    filterset_class = SiteFilter

    def get_queryset(self):
        return selectors.site_directory()


class WebhookEndpointViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Where your dispatch orders are pushed. The signing secret is shown once."""

    serializer_class = s.WebhookEndpointSerializer
    write_scope = Scope.ADMIN

    model = WebhookEndpoint
    selector = staticmethod(selectors.webhook_endpoint_list)

    @extend_schema(
        request=s.WebhookEndpointCreateSerializer,
        responses={201: s.WebhookEndpointSerializer},
    )
    def create(self, request):
        data = s.WebhookEndpointCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(actor=self.actor, **data.validated_data)
        body = {**s.WebhookEndpointSerializer(endpoint).data, "secret": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.WebhookEndpointUpdateSerializer, responses=s.WebhookEndpointSerializer)
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = s.WebhookEndpointUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(
            actor=self.actor, endpoint=endpoint, **data.validated_data
        )
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(request=None, responses=s.WebhookSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Issue a new signing secret (shown this once). The replaced secret keeps signing
        beside it until `previous_secret_signs_until` (24 h by default), then stops."""
        endpoint, secret = services.webhook_endpoint_rotate_secret(
            actor=self.actor, endpoint=self.get_object()
        )
        endpoint_data = s.WebhookEndpointSerializer(endpoint).data
        return Response(
            {
                "secret": secret,
                "previous_secret_signs_until": endpoint_data["previous_secret_signs_until"],
                "endpoint": endpoint_data,
            }
        )
