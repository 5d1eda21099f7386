"""Small SQL helpers the collectors share: seconds between two instants, JSON numbers."""

from __future__ import annotations

from django.db.models import F, FloatField, Func, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce


class SecondsBetween(Func):
    """`end - start` in seconds (float), on PostgreSQL and SQLite alike."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL (and the default)
        return super().as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ", **extra,
        )  # fmt: skip

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection,
            template="((julianday(%(expressions)s)) * 86400.0)", arg_joiner=") - julianday(",
            **extra,
        )  # fmt: skip


def json_number(path: str, default: float = 0.0):
    """A number stored in a JSON field (`timings__solve_s`) as a float; `default` if absent."""
    return Coalesce(Cast(KT(path), FloatField()), Value(default), output_field=FloatField())


__all__ = ["F", "SecondsBetween", "json_number"]
