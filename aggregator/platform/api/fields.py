"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aggregator.platform.wire import wire_decimal, wire_json


class FiniteFloatField(serializers.FloatField):
    """A float that is a real number: NaN, ±Infinity and overflowing literals (1e400 parses
    as infinity) are refused; range validators alone let NaN through (every comparison with
    NaN is false)."""

    default_error_messages = {"not_finite": _("Give a finite number (not NaN or Infinity).")}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


class InstantField(serializers.DateTimeField):
    """An ISO 8601 instant with a timezone, as aggregator.platform.instants accepts it (UTC out)."""

    def to_internal_value(self, value):
        from aggregator.platform.instants import InstantError, parse_instant

        try:
            return parse_instant(value)
        except InstantError as exc:
            raise serializers.ValidationError(str(exc)) from None


# --- Output fields that keep the API's convention (aggregator/platform/wire.py) -----------


@extend_schema_field({"type": "string", "format": "decimal", "example": "16.5"})
class DecimalTextField(serializers.Field):
    """A quantity held as a float or Decimal, written as a decimal string (read only)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return wire_decimal(value)


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "format": "decimal", "example": "32"}}
)
class DecimalTextListField(serializers.Field):
    """A per-interval profile (`cu`, `kwh`, `demand`) written as decimal strings (read only)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return [wire_decimal(v) for v in value]


class WireJSONField(serializers.JSONField):
    """A stored JSON document written with the API's convention: instants in JST, quantities
    (floats, and numbers under the keys in `quantities`) as decimal strings."""

    def __init__(self, *, quantities: frozenset[str] = frozenset(), **kwargs):
        self.quantities = quantities
        super().__init__(**kwargs)

    def to_representation(self, value):
        return wire_json(value, quantities=self.quantities)
