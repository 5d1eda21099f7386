"""Plain inputs of the document renderers: what an invoice or a statement says, no database.

The settlement side builds these from its ledger and hands them to `pdf.py` / `csv.py`;
the renderers never query anything, so a document can be re-rendered from the same data.
Amounts are integer yen (already rounded by the ledger); quantities and unit prices are
`Decimal`; timestamps are timezone-aware (shown in JST).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

STANDARD_RATE = Decimal("0.10")  # 消費税 standard rate (8 % reduced rate is for food etc.)


@dataclass(frozen=True)
class Party:
    """An issuer or recipient as the invoice prints it."""

    legal_name_ja: str
    legal_name_en: str
    # 適格請求書発行事業者登録番号: "T" + 13 digits. Required of the issuer, optional otherwise.
    registration_number: str = ""
    address_ja: str = ""
    address_en: str = ""
    contact: str = ""  # e-mail and/or phone, printed as given

    def name(self, language: str) -> str:
        return self.legal_name_ja if language == "ja" else self.legal_name_en

    def address(self, language: str) -> str:
        return self.address_ja if language == "ja" else (self.address_en or self.address_ja)


@dataclass(frozen=True)
class InvoiceLine:
    """One item. `amount_jpy` is tax-exclusive unless the invoice says amounts include tax.

    Give either `transaction_date` (a day) or `interval_start` (a 30-minute interval, UTC
    or any aware time; printed in JST) — the 取引年月日 column of a qualified invoice.
    """

    description_ja: str
    description_en: str
    quantity: Decimal
    unit: str  # "CU-h", "kWh", "件"
    unit_price_jpy: Decimal
    amount_jpy: int
    tax_rate: Decimal = STANDARD_RATE
    transaction_date: date | None = None
    interval_start: datetime | None = None

    def description(self, language: str) -> str:
        return self.description_ja if language == "ja" else self.description_en


@dataclass(frozen=True)
class InvoiceDoc:
    """A 適格請求書 (qualified invoice) for one recipient and one transaction period."""

    issuer: Party
    recipient: Party
    invoice_number: str
    issue_date: date
    period_start: date  # first day of the transactions (inclusive)
    period_end: date  # last day (inclusive)
    lines: tuple[InvoiceLine, ...]
    due_date: date | None = None
    # False: line amounts are before tax and tax is added per rate (税抜). True: line
    # amounts include tax and the tax per rate is extracted from the total (税込).
    amounts_include_tax: bool = False
    notes_ja: str = ""
    notes_en: str = ""
    # "invoice": 適格請求書 from the issuer (seller). "purchase_statement": 仕入明細書, the
    # buyer's statement of what it owes the seller (issuer = the seller, whose registration
    # number it shows); same fields, titled and worded as such.
    kind: str = "invoice"


@dataclass(frozen=True)
class StatementLine:
    """One interval's charge or credit: negative amounts are owed by the organisation."""

    interval_start: datetime  # aware; printed in JST
    kind: str  # e.g. "compute_charge", "energy_credit", "deviation", "fee", "uplift"
    description_ja: str
    description_en: str
    quantity: Decimal
    unit: str
    amount_jpy: int  # signed: + credit to the organisation, − charge to it
    status: str = ""  # "provisional" | "final" | "reversal" (as the ledger says)
    reference: str = ""  # order / journal id, for reconciliation
    # Which document the line lands on: "receivable" (the invoice: what it owes) or
    # "payable" (the purchase statement: what it is owed). "" reads the sign instead.
    account: str = ""

    def description(self, language: str) -> str:
        return self.description_ja if language == "ja" else self.description_en


@dataclass(frozen=True)
class StatementTotals:
    """A month's totals, from the organisation's side.

    Credits and charges are net per document — a provisional charge and its reversal
    cancel on the invoice, so they cancel here — hence `charges_jpy` is minus the invoice's
    subtotal before tax and `credits_jpy` the purchase statement's. The provisional and
    reversal amounts are shown apart: `provisional_jpy` is every provisional line (made
    on ordered amounts), `reversals_jpy` what was reversed once meter data came, and their
    sum is what is still provisional in the net.
    """

    credits_jpy: int
    charges_jpy: int  # ≤ 0 when the organisation owes the exchange
    net_jpy: int
    by_kind: dict[str, int] = field(default_factory=dict)
    provisional_jpy: int = 0
    reversals_jpy: int = 0

    @property
    def open_provisional_jpy(self) -> int:
        return self.provisional_jpy + self.reversals_jpy


@dataclass(frozen=True)
class StatementDoc:
    """Every interval line of one organisation in one month, with totals."""

    organisation: Party
    month: str  # "YYYY-MM"
    lines: tuple[StatementLine, ...]
    issue_date: date | None = None
    statement_number: str = ""

    @property
    def totals(self) -> StatementTotals:
        by_kind: dict[str, int] = defaultdict(int)
        credits = charges = provisional = reversals = 0
        for line in self.lines:
            by_kind[line.kind] += line.amount_jpy
            side = line.account or ("payable" if line.amount_jpy >= 0 else "receivable")
            if side == "payable":
                credits += line.amount_jpy
            else:
                charges += line.amount_jpy
            if line.status == "reversal":
                reversals += line.amount_jpy
            elif line.status == "provisional":
                provisional += line.amount_jpy
        return StatementTotals(
            credits,
            charges,
            credits + charges,
            dict(sorted(by_kind.items())),
            provisional_jpy=provisional,
            reversals_jpy=reversals,
        )
