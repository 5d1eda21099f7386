"""Monthly statements, qualified invoices and purchase statements, built from the ledger.

- Statement: every posting on the organisation's accounts in the (JST) month, one line
  each, signed from its side (+ owed to it, − owed by it); its net equals minus the
  ledger's sum over those accounts (`statement_ledger_net`).
- Qualified invoice (適格請求書), market operator → organisation, for what it owes: its
  receivable postings, per JST day and item. Amounts are before tax; consumption tax is
  added once per rate per invoice (`settlement.documents.tax`). Deviation charges are
  compensation for a breach, outside the scope of consumption tax (不課税), so they carry
  rate 0 and no tax.
- Purchase statement (仕入明細書), for what the exchange owes the organisation (compute,
  grid pass-through, energy, uplift): in Japan the buyer may issue it instead of the
  seller's invoice, with the seller's registration number, and the seller confirms it;
  it supports the exchange's input-tax credit. Same shape as the invoice (`InvoiceDoc`),
  issuer = the seller, built here as data; rendered by the invoice renderer with a
  purchase-statement note (the renderers have no separate 仕入明細書 layout yet).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils.translation import gettext as _

from aggregator.platform.errors import Conflict
from market.calendar import to_jst
from operators.models import Organisation
from settlement.choices import AccountKind, Component, EntryKind, Stage
from settlement.documents.tax import TaxSummary, invoice_tax, tax_summary
from settlement.documents.types import (
    STANDARD_RATE,
    InvoiceDoc,
    InvoiceLine,
    Party,
    StatementDoc,
    StatementLine,
)
from settlement.models import SettlementParameters
from settlement.models.ledger import Posting
from settlement.selectors import month_bounds, organisation_postings, parse_month

# (Japanese, English) for statement and invoice lines, by posting component.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    Component.COMPUTE_ENERGY: (
        "計算資源・電力（オールイン価格）",
        "Compute and energy (all-in price)",
    ),
    Component.MARKET_FEE: ("市場手数料", "Market fee"),
    Component.COMPUTE: ("計算資源の提供（ホスティング）", "Compute hosted"),
    Component.GRID_PASS_THROUGH: ("系統電力のパススルー", "Grid energy pass-through"),
    Component.ENERGY_SUPPLY: ("電力供給", "Energy supplied"),
    Component.CONGESTION_RENT: ("混雑収入", "Congestion rent"),
    Component.DEVIATION: ("インバランス（不足）精算金", "Deviation charge (shortfall)"),
    Component.UPLIFT: ("アップリフト支払", "Uplift payment"),
    Component.ROUNDING: ("端数調整", "Rounding"),
}
NON_TAXABLE = {Component.DEVIATION}  # 不課税: compensation, not consideration for a supply
DEVIATION_NOTE = (
    "インバランス（不足）精算金は損害賠償的性格のため不課税（0%）です。",
    "Deviation charges are compensation and outside consumption tax (0 %).",
)


def party(org: Organisation) -> Party:
    contact = " / ".join(x for x in (org.contact_email, org.contact_phone) if x)
    return Party(
        legal_name_ja=org.legal_name_ja,
        legal_name_en=org.legal_name_en,
        registration_number=org.invoice_registration_number,
        contact=contact,
    )


def market_operator() -> Organisation:
    """The invoice issuer: the (first) organisation with the market-operator role."""
    # Roles are a JSON list; a handful of organisations, so filtered here, not in SQL.
    operator = next((o for o in Organisation.objects.order_by("id") if o.is_market_operator), None)
    if operator is None or not operator.invoice_registration_number:
        raise Conflict(
            _(
                "Invoices need the market operator's organisation with its qualified-invoice "
                "registration number (T + 13 digits)."
            )
        )
    return operator


@dataclass(frozen=True)
class _Row:
    """One posting as statements read it (plain values: no model instances per line)."""

    entry_id: int
    interval_start: datetime
    component: str
    amount_jpy: int
    quantity: Decimal | None
    unit: str
    memo: str
    account_kind: str
    entry_kind: str
    stage: str
    order_id: int | None
    unit_price: Decimal | None


def _rows(organisation_id: int, month: str) -> list[_Row]:
    start, end = month_bounds(month)
    return [
        _Row(*values)
        for values in organisation_postings(
            organisation_id=organisation_id, start=start, end=end
        ).values_list(
            "entry_id", "interval_start", "component", "amount_jpy", "quantity", "unit", "memo",
            "account__kind", "entry__kind", "entry__stage", "entry__order_id", "unit_price",
        )
    ]  # fmt: skip


def _statement(organisation: Organisation, month: str, rows: list[_Row]) -> StatementDoc:
    lines = []
    for p in rows:
        ja, en = DESCRIPTIONS.get(p.component, (p.component, p.component))
        status = "reversal" if p.entry_kind == EntryKind.REVERSAL else p.stage
        lines.append(
            StatementLine(
                interval_start=p.interval_start,
                kind=p.component,
                description_ja=f"{ja}（{p.memo}）" if p.memo else ja,
                description_en=f"{en} ({p.memo})" if p.memo else en,
                quantity=p.quantity if p.quantity is not None else Decimal(0),
                unit=p.unit,
                # The ledger's sign is the exchange's: a debit on the organisation's account
                # is a charge to it. The statement speaks from the organisation's side.
                amount_jpy=-p.amount_jpy,
                status=str(status),
                reference=f"je-{p.entry_id}" + (f" ord-{p.order_id}" if p.order_id else ""),
                account=p.account_kind,
            )
        )
    first, _following = parse_month(month)
    return StatementDoc(
        organisation=party(organisation),
        month=month,
        lines=tuple(lines),
        issue_date=_issue_date(first),
        statement_number=f"ST-{month}-{organisation.slug}",
    )


def statement_for(*, organisation: Organisation, month: str) -> StatementDoc:
    return _statement(organisation, month, _rows(organisation.pk, month))


def _issue_date(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class MonthlyDocs:
    statement: StatementDoc
    invoice: InvoiceDoc | None  # None: nothing owed this month
    invoice_tax: TaxSummary | None
    purchase: InvoiceDoc | None  # 仕入明細書: None when nothing is owed to it
    purchase_tax: TaxSummary | None


def _grouped_lines(postings, *, account_kind: str, sign: int, rate: Decimal) -> list[InvoiceLine]:
    """Invoice lines per JST day and item: quantity and yen summed.

    The unit price is the tariff's when every posting of the line was made at one (the
    market fee: 2 JPY/CU-h, even though each interval's yen were rounded); otherwise the
    amount over the quantity.
    """
    groups: dict[tuple[date, str, str], list] = defaultdict(lambda: [Decimal(0), 0, set()])
    for p in postings:
        if p.account_kind != account_kind or p.component == Component.ROUNDING:
            continue
        key = (to_jst(p.interval_start).date(), p.component, p.unit)
        groups[key][0] += p.quantity or Decimal(0)
        groups[key][1] += sign * p.amount_jpy
        groups[key][2].add(p.unit_price)
    lines = []
    for (day, component, unit), (quantity, amount, prices) in sorted(groups.items()):
        if amount == 0 and quantity == 0:
            continue
        ja, en = DESCRIPTIONS[component]
        if len(prices) == 1 and None not in prices and quantity:
            unit_price = prices.pop().quantize(Decimal("0.0001"))
        else:
            unit_price = (
                (Decimal(amount) / quantity).quantize(Decimal("0.0001")) if quantity else Decimal(0)
            )
        lines.append(
            InvoiceLine(
                description_ja=ja,
                description_en=en,
                quantity=quantity.normalize() if quantity else Decimal(0),
                unit=unit or "件",
                unit_price_jpy=unit_price,
                amount_jpy=amount,
                tax_rate=Decimal(0) if component in NON_TAXABLE else rate,
                transaction_date=day,
            )
        )
    return lines


def monthly_documents(*, organisation: Organisation, month: str) -> MonthlyDocs:
    postings = _rows(organisation.pk, month)
    statement = _statement(organisation, month, postings)
    first, following = parse_month(month)
    rate = SettlementParameters.current().consumption_tax_rate or STANDARD_RATE
    charges = _grouped_lines(postings, account_kind=AccountKind.RECEIVABLE, sign=1, rate=rate)
    credits = _grouped_lines(postings, account_kind=AccountKind.PAYABLE, sign=-1, rate=rate)
    invoice = purchase = None
    if charges or credits:
        operator = market_operator()
        period_end = following - timedelta(days=1)
        issue = _issue_date(first)
        due = _issue_date(issue) - timedelta(days=1)
        if charges:
            has_deviation = any(line.tax_rate == 0 for line in charges)
            invoice = InvoiceDoc(
                issuer=party(operator),
                recipient=party(organisation),
                invoice_number=f"INV-{month}-{organisation.slug}",
                issue_date=issue,
                period_start=first,
                period_end=period_end,
                lines=tuple(charges),
                due_date=due,
                notes_ja=DEVIATION_NOTE[0] if has_deviation else "",
                notes_en=DEVIATION_NOTE[1] if has_deviation else "",
            )
        if credits:
            purchase = InvoiceDoc(
                kind="purchase_statement",
                issuer=party(organisation),
                recipient=party(operator),
                invoice_number=f"PS-{month}-{organisation.slug}",
                issue_date=issue,
                period_start=first,
                period_end=period_end,
                lines=tuple(credits),
                due_date=due,
                notes_ja=(
                    "仕入明細書：市場運営者が作成し、貴社の確認をもって適格請求書に代えるものです。"
                    "記載内容に誤りがある場合は発行日から14日以内にご連絡ください。"
                ),
                notes_en=(
                    "Purchase statement (shiire meisaisho): prepared by the market operator and, "
                    "once you confirm it, in place of your qualified invoice. Report errors within "
                    "14 days of issue."
                ),
            )
    return MonthlyDocs(
        statement=statement,
        invoice=invoice,
        invoice_tax=invoice_tax(invoice) if invoice else None,
        purchase=purchase,
        purchase_tax=invoice_tax(purchase) if purchase else None,
    )


def statement_ledger_net(*, organisation: Organisation, month: str) -> int:
    """What the ledger says the month nets to for the organisation, from its side."""
    from settlement.selectors import ledger_totals

    start, end = month_bounds(month)
    return -sum(ledger_totals(organisation_id=organisation.pk, start=start, end=end).values())


def statement_summaries(*, organisations: list[Organisation], month: str) -> list[dict]:
    """Totals of many organisations' monthly documents from one grouped query.

    The same numbers as `monthly_documents` (statement credits/charges/net, invoice and
    purchase-statement tax per rate) without building every line: invoice lines only
    regroup postings by day, so their per-rate totals are the postings' per-rate sums.
    Organisations with nothing in the month are left out.
    """
    from django.db.models import Count, Q, Sum

    start, end = month_bounds(month)
    rate = SettlementParameters.current().consumption_tax_rate or STANDARD_RATE
    by_org: dict[int, dict] = {}
    rows = (
        Posting.objects.filter(
            organisation_id__in=[o.pk for o in organisations],
            interval_start__gte=start,
            interval_start__lt=end,
        )
        .values("organisation_id", "account__kind", "component")
        .annotate(
            n=Count("id"),
            total=Sum("amount_jpy"),
            reversed=Sum("amount_jpy", filter=Q(entry__kind=EntryKind.REVERSAL)),
            provisional=Sum(
                "amount_jpy",
                filter=Q(entry__kind=EntryKind.SETTLEMENT, entry__stage=Stage.PROVISIONAL),
            ),
        )
    )
    for row in rows:
        s = by_org.setdefault(
            row["organisation_id"],
            {"lines": 0, "credits": 0, "charges": 0, "provisional": 0, "reversals": 0,
             "by_kind": defaultdict(int), "charge_pairs": [], "credit_pairs": []},
        )  # fmt: skip
        # Statement sign: + owed to the organisation (a ledger credit), − owed by it; net
        # per document, as StatementDoc.totals counts them.
        s["lines"] += row["n"]
        side = "credits" if row["account__kind"] == AccountKind.PAYABLE else "charges"
        s[side] -= row["total"]
        s["provisional"] -= row["provisional"] or 0
        s["reversals"] -= row["reversed"] or 0
        s["by_kind"][row["component"]] -= row["total"]
        if row["component"] == Component.ROUNDING:
            continue
        line_rate = Decimal(0) if row["component"] in NON_TAXABLE else rate
        if row["account__kind"] == AccountKind.RECEIVABLE:
            s["charge_pairs"].append((int(row["total"]), line_rate))
        elif row["account__kind"] == AccountKind.PAYABLE:
            s["credit_pairs"].append((-int(row["total"]), line_rate))
    out = []
    for org in organisations:
        s = by_org.get(org.pk)
        if s is None:
            continue
        out.append(
            {
                "organisation": org,
                "lines": s["lines"],
                "credits_jpy": s["credits"],
                "charges_jpy": s["charges"],
                "net_jpy": s["credits"] + s["charges"],
                "provisional_jpy": s["provisional"],
                "reversals_jpy": s["reversals"],
                "open_provisional_jpy": s["provisional"] + s["reversals"],
                "by_kind": dict(sorted(s["by_kind"].items())),
                "invoice": tax_summary(s["charge_pairs"]) if s["charge_pairs"] else None,
                "purchase": tax_summary(s["credit_pairs"]) if s["credit_pairs"] else None,
            }
        )
    return out
