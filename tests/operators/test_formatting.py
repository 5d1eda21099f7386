"""Yen and quantities as people read them."""

from decimal import Decimal

from operators.templatetags.wattbit_format import grouped, yen


def test_yen_groups_and_rounds_to_whole_yen():
    assert yen(Decimal("1234567.49")) == "¥1,234,567"
    assert yen(-1500) == "−¥1,500"
    assert yen(None) == "—"


def test_grouped_quantities():
    assert grouped(Decimal("12345.678"), 1) == "12,345.7"
    assert grouped("160", 0) == "160"
    assert grouped("not a number") == "—"
