"""The dispatch-order push in the OpenAPI document, as an OpenAPI 3.1 `webhooks` entry:
its body (market.services.orders.order_payload), its Standard Webhooks headers, and what the
receiver's answer means (docs/webhooks.md)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from market.models.dispatch import OrderKind

WEBHOOK_NAME = "dispatchOrder"


class DispatchOrderPushSerializer(serializers.Serializer):
    """The JSON body of a push: one dispatch order version, as signed (the raw bytes)."""

    id = serializers.CharField(help_text="The order's public id.")
    order = serializers.IntegerField(help_text="The order's id in /api/v1/orders/.")
    version = serializers.IntegerField(min_value=1, help_text="A re-dispatch adds a version.")
    supersedes = serializers.IntegerField(
        allow_null=True, help_text="The order id this version replaces, if any."
    )
    kind = serializers.ChoiceField(OrderKind.choices)
    organisation = serializers.CharField(help_text="Your organisation's slug.")
    interval_start = serializers.DateTimeField(help_text="ISO 8601 in JST, `+09:00`.")
    site = serializers.CharField(allow_null=True, help_text="Site code (hosting, placement).")
    area = serializers.CharField(allow_null=True, help_text="JEPX area (delivery).")
    lines = serializers.ListField(
        child=serializers.DictField(),
        help_text="What to run or deliver: workloads and CU per site, or kWh per offer; "
        "quantities and prices as decimal strings.",
    )
    total_cu = serializers.DecimalField(max_digits=14, decimal_places=6)
    total_kwh = serializers.DecimalField(max_digits=14, decimal_places=3)
    reason = serializers.CharField(help_text="`clearing` or `redispatch`.")
    idempotency_key = serializers.CharField(help_text="The same as the webhook-id header.")
    acknowledge_url = serializers.CharField(
        help_text="Accept or reject the order there (receiving it is not accepting it)."
    )


def _receiver(view):
    # The receiving end: its answers are the participant's, not our problem responses
    # (aggregator.platform.api.schema.ProblemAutoSchema leaves such views alone).
    view.documents_webhook_receiver = True
    return extend_schema(
        summary="A dispatch order (or an amended version of it) pushed to your endpoint",
        description=(
            "Sent to each active webhook endpoint of the order's organisation, signed as "
            "[Standard Webhooks](https://www.standardwebhooks.com): verify the raw body with "
            "any Standard Webhooks library and your `whsec_` secret before acting on it. "
            "Retries of one order version carry the same `webhook-id`; deduplicate on it."
        ),
        tags=["webhooks"],
        request=DispatchOrderPushSerializer,
        responses={
            "2XX": OpenApiResponse(
                description="Received. The status line and headers must arrive within 10 s "
                "of our connecting."
            ),
            "default": OpenApiResponse(
                description="Anything else, a redirect or no answer in time: retried with "
                "exponential backoff and jitter until the interval starts."
            ),
        },
    )(view)


dispatch_order_webhook = OpenApiWebhook(name=WEBHOOK_NAME, decorator=_receiver)


def _header(name: str, description: str, example: str, *, deprecated: bool = False) -> dict:
    parameter = {
        "name": name,
        "in": "header",
        "required": not deprecated,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }
    if deprecated:
        parameter["deprecated"] = True
    return parameter


HEADERS = [
    _header(
        "webhook-id",
        "The order version's idempotency key: the same on every retry of that version.",
        "ord-41-7-hosting-12-v1",
    ),
    _header(
        "webhook-timestamp",
        "When this attempt was signed, in Unix seconds. Refuse it more than 5 minutes off.",
        "1764201600",
    ),
    _header(
        "webhook-signature",
        'Space-separated `v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.'
        '{body}")>`, the key being the base64-decoded bytes after `whsec_`. Two signatures '
        "while a rotated-out secret still signs (`previous_secret_signs_until`).",
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    ),
    _header(
        "Idempotency-Key",
        "The same value as webhook-id (kept for receivers written before Standard Webhooks).",
        "ord-41-7-hosting-12-v1",
    ),
    _header(
        "Wattbit-Signature",
        "Deprecated, this release only: `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "
        '"{t}.{body}")>`, sent only while a secret issued before Standard Webhooks signs.',
        "t=1764201600,v1=5f0c…e9",
        deprecated=True,
    ),
]


def document_webhook_headers(result, generator, request, public):
    """drf-spectacular post-processing hook: the headers of the push (OpenApiWebhook
    documents a body and responses only)."""
    operation = result.get("webhooks", {}).get(WEBHOOK_NAME, {}).get("post")
    if operation is not None:
        operation["parameters"] = HEADERS
    return result
