"""What one cleared interval owes whom: pure planning of journal entries from loaded rows.

The money rules (DESIGN §8, issue 6), per current dispatch order, at the cleared prices:
- placement (owner): pays the all-in price × CU-h delivered, plus the market fee per CU-h;
- hosting (provider): receives the compute price × CU-h delivered, plus the grid energy
  attributable to its site at the area price (pass-through: the site buys it from its own
  utility; the owner paid for it in the all-in price); a shortfall against the order costs
  multiplier × |all-in price| × CU-h short;
- delivery (supplier): receives its price (area price less cap rent) × kWh delivered; the
  cap rent is retained by the market (congestion rent); a shortfall costs
  multiplier × |area price| × kWh short;
- uplift: each make-whole amount is paid to its organisation from the uplift account.
"Delivered" is the current meter reading; without one the amount ordered is used and the
item is provisional. CU delivered is reported by the hosting provider, and it is what both
the provider and the owner settle on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from market.models.dispatch import OrderKind
from operators.site_energy import kwh_per_cu_hour
from settlement.choices import AccountKind, Component, ReadingKind
from settlement.ledger import Accounts, Line, balanced
from settlement.models import reading_subject
from settlement.money import HALF_HOUR, to_yen


@dataclass
class AllocationRow:
    site_id: int
    workload_id: int
    owner_id: int
    cu: Decimal
    compute_jpy_per_cu_h: Decimal
    all_in_jpy_per_cu_h: Decimal


@dataclass
class AwardRow:
    offer_id: int
    supplier_id: int
    area_id: str
    kwh: Decimal
    jpy_per_kwh: Decimal  # what the supplier receives


@dataclass
class SiteRow:
    id: int
    code: str
    organisation_id: int
    area_id: str
    kw_per_cu: Decimal
    pue: Decimal

    @property
    def kwh_per_cu(self) -> Decimal:
        return kwh_per_cu_hour(self.kw_per_cu, self.pue) * HALF_HOUR


@dataclass
class OrderRow:
    id: int
    kind: str
    organisation_id: int
    site_id: int | None
    area_id: str | None


@dataclass
class IntervalInput:
    """Everything settlement of one interval reads, as plain rows."""

    run_id: int
    orders: list[OrderRow]
    allocations: list[AllocationRow]
    awards: list[AwardRow]
    sites: dict[int, SiteRow]
    area_price: dict[str, Decimal]  # area → cleared energy price JPY/kWh
    grid_kwh: dict[str, Decimal]  # area → kWh bought from the grid
    uplift: list[tuple[int, str, Decimal]]  # (organisation, participant, JPY)
    delivered: dict[str, Decimal]  # reading subject → current CU or kWh
    fee_jpy_per_cu_h: Decimal
    deviation_multiplier: Decimal


@dataclass
class ItemPlan:
    key: str
    order_id: int | None
    complete: bool  # every quantity it depends on was metered
    lines: list[Line] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _grid_share(data: IntervalInput) -> dict[str, Decimal]:
    """Per area: grid kWh ÷ kWh the area's sites were ordered to draw (≤ 1)."""
    drawn: dict[str, Decimal] = defaultdict(Decimal)
    for a in data.allocations:
        site = data.sites[a.site_id]
        drawn[site.area_id] += a.cu * site.kwh_per_cu
    return {
        area: min(Decimal(1), data.grid_kwh.get(area, Decimal(0)) / kwh) if kwh > 0 else Decimal(0)
        for area, kwh in drawn.items()
    }


def _delivered(data: IntervalInput, subject: str, ordered: Decimal, missing: list[str]) -> Decimal:
    value = data.delivered.get(subject)
    if value is None:
        missing.append(subject)
        return ordered
    return value


def plan_interval(data: IntervalInput, accounts: Accounts) -> dict[str, ItemPlan]:
    """One ItemPlan per current order (key "order:<id>") and one for the run's uplift."""
    accounts.ensure_organisations(
        [o.organisation_id for o in data.orders] + [u[0] for u in data.uplift]
    )
    share = _grid_share(data)
    by_site: dict[int, list[AllocationRow]] = defaultdict(list)
    for a in data.allocations:
        by_site[a.site_id].append(a)
    by_supplier_area: dict[tuple[int, str], list[AwardRow]] = defaultdict(list)
    for e in data.awards:
        by_supplier_area[(e.supplier_id, e.area_id)].append(e)
    clearing = accounts.market(AccountKind.CLEARING)
    plans: dict[str, ItemPlan] = {}
    for order in data.orders:
        key = f"order:{order.id}"
        if order.kind == OrderKind.HOSTING:
            plan = _hosting(data, order, by_site[order.site_id], share, accounts, clearing)
        elif order.kind == OrderKind.PLACEMENT:
            rows = [a for a in by_site[order.site_id] if a.owner_id == order.organisation_id]
            plan = _placement(data, order, rows, accounts, clearing)
        else:
            rows = by_supplier_area[(order.organisation_id, order.area_id)]
            plan = _delivery(data, order, rows, accounts, clearing)
        plan.key = key
        plans[key] = plan
    if data.uplift:
        plans[f"uplift:{data.run_id}"] = _uplift(data, accounts)
    return plans


def _hosting(data, order, rows, share, accounts, clearing) -> ItemPlan:
    site = data.sites[order.site_id]
    missing: list[str] = []
    cu_h = compute = grid_kwh = short_cu_h = deviation = Decimal(0)
    for a in rows:
        subject = reading_subject(ReadingKind.COMPUTE, site_id=a.site_id, workload_id=a.workload_id)
        got = _delivered(data, subject, a.cu, missing)
        cu_h += got * HALF_HOUR
        compute += got * HALF_HOUR * a.compute_jpy_per_cu_h
        grid_kwh += got * site.kwh_per_cu * share.get(site.area_id, Decimal(0))
        short = max(Decimal(0), a.cu - got) * HALF_HOUR
        short_cu_h += short
        deviation += short * abs(a.all_in_jpy_per_cu_h) * data.deviation_multiplier
    price = data.area_price.get(site.area_id, Decimal(0))
    payable = accounts.org(order.organisation_id, AccountKind.PAYABLE)
    receivable = accounts.org(order.organisation_id, AccountKind.RECEIVABLE)
    compute_yen, grid_yen, dev_yen = to_yen(compute), to_yen(grid_kwh * price), to_yen(deviation)
    unit_price = rows[0].compute_jpy_per_cu_h if rows else None
    memo = site.code
    lines = [
        Line(clearing, Component.COMPUTE, compute_yen, cu_h, "CU-h", unit_price, memo),
        Line(payable, Component.COMPUTE, -compute_yen, cu_h, "CU-h", unit_price, memo),
        Line(clearing, Component.GRID_PASS_THROUGH, grid_yen, grid_kwh, "kWh", price, memo),
        Line(payable, Component.GRID_PASS_THROUGH, -grid_yen, grid_kwh, "kWh", price, memo),
        Line(receivable, Component.DEVIATION, dev_yen, short_cu_h, "CU-h", None, memo),
        Line(
            accounts.market(AccountKind.DEVIATION),
            Component.DEVIATION,
            -dev_yen,
            short_cu_h,
            "CU-h",
            None,
            memo,
        ),
    ]
    return ItemPlan("", order.id, not missing, balanced(lines, accounts), missing)


def _placement(data, order, rows, accounts, clearing) -> ItemPlan:
    missing: list[str] = []
    cu_h = all_in = Decimal(0)
    for a in rows:
        subject = reading_subject(ReadingKind.COMPUTE, site_id=a.site_id, workload_id=a.workload_id)
        got = _delivered(data, subject, a.cu, missing)
        cu_h += got * HALF_HOUR
        all_in += got * HALF_HOUR * a.all_in_jpy_per_cu_h
    receivable = accounts.org(order.organisation_id, AccountKind.RECEIVABLE)
    all_in_yen = to_yen(all_in)
    fee_yen = to_yen(cu_h * data.fee_jpy_per_cu_h)
    unit_price = rows[0].all_in_jpy_per_cu_h if rows else None
    memo = data.sites[order.site_id].code
    fee = data.fee_jpy_per_cu_h
    lines = [
        Line(receivable, Component.COMPUTE_ENERGY, all_in_yen, cu_h, "CU-h", unit_price, memo),
        Line(clearing, Component.COMPUTE_ENERGY, -all_in_yen, cu_h, "CU-h", unit_price, memo),
        Line(receivable, Component.MARKET_FEE, fee_yen, cu_h, "CU-h", fee, memo),
        Line(
            accounts.market(AccountKind.FEE_REVENUE),
            Component.MARKET_FEE,
            -fee_yen,
            cu_h,
            "CU-h",
            fee,
            memo,
        ),
    ]
    return ItemPlan("", order.id, not missing, balanced(lines, accounts), missing)


def _delivery(data, order, rows, accounts, clearing) -> ItemPlan:
    missing: list[str] = []
    price = data.area_price.get(order.area_id, Decimal(0))
    kwh = supplier = short_kwh = Decimal(0)
    for e in rows:
        subject = reading_subject(ReadingKind.SUPPLY, offer_id=e.offer_id)
        got = _delivered(data, subject, e.kwh, missing)
        kwh += got
        supplier += got * e.jpy_per_kwh
        short_kwh += max(Decimal(0), e.kwh - got)
    market_yen = to_yen(kwh * price)
    supplier_yen = to_yen(supplier)
    rent_yen = to_yen(kwh * price - supplier)
    dev_unit = abs(price) * data.deviation_multiplier
    dev_yen = to_yen(short_kwh * dev_unit)
    payable = accounts.org(order.organisation_id, AccountKind.PAYABLE)
    receivable = accounts.org(order.organisation_id, AccountKind.RECEIVABLE)
    unit_price = rows[0].jpy_per_kwh if rows else None
    memo = order.area_id or ""
    lines = [
        Line(clearing, Component.ENERGY_SUPPLY, market_yen, kwh, "kWh", price, memo),
        Line(payable, Component.ENERGY_SUPPLY, -supplier_yen, kwh, "kWh", unit_price, memo),
        Line(
            accounts.market(AccountKind.CONGESTION_RENT),
            Component.CONGESTION_RENT,
            -rent_yen,
            kwh,
            "kWh",
            None,
            memo,
        ),
        Line(receivable, Component.DEVIATION, dev_yen, short_kwh, "kWh", dev_unit, memo),
        Line(
            accounts.market(AccountKind.DEVIATION),
            Component.DEVIATION,
            -dev_yen,
            short_kwh,
            "kWh",
            dev_unit,
            memo,
        ),
    ]
    return ItemPlan("", order.id, not missing, balanced(lines, accounts), missing)


def _uplift(data: IntervalInput, accounts: Accounts) -> ItemPlan:
    lines = []
    for organisation_id, participant, jpy in data.uplift:
        yen = to_yen(jpy)
        lines.append(
            Line(accounts.market(AccountKind.UPLIFT), Component.UPLIFT, yen, memo=participant)
        )
        lines.append(
            Line(
                accounts.org(organisation_id, AccountKind.PAYABLE),
                Component.UPLIFT,
                -yen,
                memo=participant,
            )
        )
    return ItemPlan(f"uplift:{data.run_id}", None, True, balanced(lines, accounts))
