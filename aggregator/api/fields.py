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
