"""Consumption tax on a qualified invoice: one rounding per tax rate per invoice.

The qualified-invoice rule (消費税法施行令 第70条の10) allows one fractional-yen
rounding per rate per invoice, on the total of that rate — never per line. The rounding
mode is the issuer's choice; we truncate (切り捨て), the common practice, i.e. toward
zero, which for positive amounts is the floor. Only `int` yen and `Decimal` rates are
used: no float ever touches money here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

TAX_ROUNDING = ROUND_DOWN  # 切り捨て: toward zero


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal  # 0.10 for 10 %
    taxable_jpy: int  # total of the rate's lines before tax (税抜)
    tax_jpy: int  # consumption tax of the rate, rounded once
    total_jpy: int  # taxable + tax (税込)


@dataclass(frozen=True)
class TaxSummary:
    per_rate: tuple[RateTotal, ...]  # highest rate first, as invoices list them
    subtotal_jpy: int
    tax_jpy: int
    total_jpy: int


def _check(amount: object, rate: object) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"amounts are integer yen, got {type(amount).__name__}")
    if not isinstance(rate, Decimal):
        raise TypeError(f"tax rates are Decimal, got {type(rate).__name__}")
    if not Decimal(0) <= rate < Decimal(1):
        raise ValueError(f"tax rate must be within [0, 1), got {rate}")


def tax_on(amount_jpy: int, rate: Decimal, *, includes_tax: bool = False) -> int:
    """Tax of one rate's total: `amount × rate` (or the tax inside a tax-inclusive amount)."""
    _check(amount_jpy, rate)
    if includes_tax:
        exact = Decimal(amount_jpy) * rate / (Decimal(1) + rate)
    else:
        exact = Decimal(amount_jpy) * rate
    return int(exact.quantize(Decimal(1), rounding=TAX_ROUNDING))


def tax_summary(
    lines: Iterable[tuple[int, Decimal]], *, amounts_include_tax: bool = False
) -> TaxSummary:
    """Per-rate totals of `(amount_jpy, rate)` pairs, the tax rounded once per rate."""
    totals: dict[Decimal, int] = {}
    for amount, rate in lines:
        _check(amount, rate)
        key = rate.normalize()
        totals[key] = totals.get(key, 0) + amount
    per_rate = []
    for rate in sorted(totals, reverse=True):
        amount = totals[rate]
        tax = tax_on(amount, rate, includes_tax=amounts_include_tax)
        taxable = amount - tax if amounts_include_tax else amount
        per_rate.append(RateTotal(rate, taxable, tax, taxable + tax))
    subtotal = sum(r.taxable_jpy for r in per_rate)
    tax_total = sum(r.tax_jpy for r in per_rate)
    return TaxSummary(tuple(per_rate), subtotal, tax_total, subtotal + tax_total)


def invoice_tax(doc) -> TaxSummary:
    """The tax summary of an `InvoiceDoc`."""
    return tax_summary(
        ((line.amount_jpy, line.tax_rate) for line in doc.lines),
        amounts_include_tax=doc.amounts_include_tax,
    )


def percent(rate: Decimal) -> str:
    """0.10 → "10%", 0.08 → "8%"."""
    value = (rate * 100).normalize()
    return f"{value:f}%"
