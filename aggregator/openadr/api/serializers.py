"""Input checks of the VTN: the shapes of the spec's request objects (types only; the
services decide). Field names are the spec's, camelCase."""

from __future__ import annotations

from rest_framework import serializers

from aggregator.openadr.choices import HTTP_VERB_OPERATIONS, ObjectType, Operation

OBJECT_ID = r"^[a-zA-Z0-9_-]*$"


class ValuesMap(serializers.Serializer):
    type = serializers.CharField(min_length=1, max_length=128)
    values = serializers.ListField(child=serializers.JSONField(), max_length=1000)


class IntervalPeriod(serializers.Serializer):
    start = serializers.CharField(required=False)
    duration = serializers.CharField(required=False)
    randomizeStart = serializers.CharField(required=False, allow_null=True)


class Interval(serializers.Serializer):
    id = serializers.IntegerField()
    intervalPeriod = IntervalPeriod(required=False, allow_null=True)
    payloads = ValuesMap(many=True)


class ReportResource(serializers.Serializer):
    resourceName = serializers.CharField(min_length=1, max_length=128)
    intervalPeriod = IntervalPeriod(required=False, allow_null=True)
    intervals = Interval(many=True, allow_empty=False)


class ReportIn(serializers.Serializer):
    eventID = serializers.RegexField(OBJECT_ID, min_length=1, max_length=128)
    clientName = serializers.CharField(min_length=1, max_length=128)
    reportName = serializers.CharField(required=False, allow_null=True, max_length=256)
    payloadDescriptors = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True, max_length=50
    )
    resources = ReportResource(many=True, allow_empty=False, max_length=100)


class ObjectOperation(serializers.Serializer):
    objects = serializers.ListField(
        child=serializers.ChoiceField(ObjectType.values), allow_empty=False
    )
    operations = serializers.ListField(
        child=serializers.ChoiceField([*Operation.values, *HTTP_VERB_OPERATIONS]),
        allow_empty=False,
    )
    callbackUrl = serializers.URLField(max_length=8000)
    bearerToken = serializers.CharField(
        required=False, allow_null=True, max_length=4096, trim_whitespace=False
    )


class SubscriptionIn(serializers.Serializer):
    clientName = serializers.CharField(min_length=1, max_length=128)
    programID = serializers.RegexField(
        OBJECT_ID, min_length=1, max_length=128, required=False, allow_null=True
    )
    # Each callback is challenged during the request (up to OPENADR_CALLBACK_TIMEOUT_S each):
    # a few per subscription keep the request inside the server's own timeout.
    objectOperations = ObjectOperation(many=True, allow_empty=False, max_length=4)
    targets = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, allow_null=True
    )


class VenIn(serializers.Serializer):
    venName = serializers.CharField(min_length=1, max_length=128)
    attributes = ValuesMap(many=True, required=False, allow_null=True)


class ResourceIn(serializers.Serializer):
    resourceName = serializers.CharField(min_length=1, max_length=128)
    venID = serializers.RegexField(OBJECT_ID, min_length=1, max_length=128)
    attributes = ValuesMap(many=True, required=False, allow_null=True)
