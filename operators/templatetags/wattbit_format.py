"""Money, energy and roles as people read them: grouped digits, yen sign, units, labels."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from operators.choices import MemberRole, OrganisationRole

register = template.Library()


def _number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def yen(value) -> str:
    """Whole yen with grouping: ¥1,234,567 (negative: −¥1,234)."""
    number = _number(value)
    if number is None:
        return "—"
    whole = int(number.quantize(Decimal(1)))
    return f"−¥{-whole:,}" if whole < 0 else f"¥{whole:,}"


@register.filter
def grouped(value, places: int = 0) -> str:
    """A quantity with grouping and fixed decimals: 1,234.5."""
    number = _number(value)
    if number is None:
        return "—"
    return f"{number:,.{int(places)}f}"


@register.filter
def role_label(value) -> str:
    """An organisation or member role as its translated label, never the raw code
    ('compute_provider' → コンピュート事業者); an unknown code is shown as it is."""
    for choices in (OrganisationRole, MemberRole):
        if value in choices.values:
            return str(choices(value).label)
    return "" if value is None else str(value)
