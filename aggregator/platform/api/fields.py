"""Serializer fields shared by the apps' APIs."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
