"""Parsing the instants clients send (ISO 8601 with a timezone) into UTC, with clear errors.

One parser for bid starts, list filters, result ranges and events, so that every door
refuses the same things the same way: no timezone, a UTC offset no timezone has (the
database refuses them too: PostgreSQL's limit is ±15:59), an impossible date, or a year the
market can never reach (arithmetic on year 1 or 9999 overflows).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import django_filters
from django import forms
from django.utils.translation import gettext as _

# Real timezones run from UTC−12:00 (Baker Island) to UTC+14:00 (Line Islands).
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)
MIN_YEAR, MAX_YEAR = 2000, 2099
MAX_LENGTH = 40  # "2026-04-01T09:00:00.123456+09:00" is 32

EXAMPLE = "2026-04-01T09:00:00+09:00"


class InstantError(ValueError):
    """The text is not an instant the market accepts; the message says why."""


def parse_instant(text: object) -> datetime:
    """An aware UTC datetime, or InstantError with a message fit for the client."""
    if isinstance(text, datetime):
        parsed = text
    else:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_LENGTH:
            raise InstantError(
                _("Give an ISO 8601 time with a timezone, e.g. %(e)s.") % {"e": EXAMPLE}
            )
        try:
            parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InstantError(
                _("%(v)s is not a date and time that exists; give ISO 8601, e.g. %(e)s.")
                % {"v": _shown(text), "e": EXAMPLE}
            ) from None
    if parsed.tzinfo is None:
        raise InstantError(_("Give a timezone too, e.g. %(e)s.") % {"e": EXAMPLE})
    offset = parsed.utcoffset()
    if offset is None or not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise InstantError(_("UTC offsets run from -12:00 to +14:00."))
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:
        instant = None
    if instant is None or not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise InstantError(
            _("Give a time between %(lo)d and %(hi)d.") % {"lo": MIN_YEAR, "hi": MAX_YEAR}
        )
    return instant


def _shown(text: str) -> str:
    """The client's text, safe to echo (no lone surrogates or control characters)."""
    return repr(text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"))


class InstantField(forms.Field):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return parse_instant(value)
        except InstantError as exc:
            # django-filter formats messages with "%" (params): the client's text may hold one.
            raise forms.ValidationError(str(exc).replace("%", "%%")) from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter (documented as date-time) that refuses what parse_instant refuses."""

    field_class = InstantField
