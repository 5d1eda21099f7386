"""Qualified-invoice tax arithmetic (hand-computed) and the rendered invoice/statement files."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest

from settlement.documents.csv import render_statement_csv
from settlement.documents.pdf import render_invoice_pdf, render_statement_pdf
from settlement.documents.tax import invoice_tax, percent, tax_on, tax_summary
from settlement.documents.types import (
    InvoiceDoc,
    InvoiceLine,
    Party,
    StatementDoc,
    StatementLine,
)
from tests.support.pdf import has_pdftotext, pdf_text

TEN = D("0.10")
EIGHT = D("0.08")


def test_tax_is_rounded_once_per_rate_on_the_rate_total():
    # Per line: 100.1 → 100 and 200.3 → 200 = 300; once on 3,004: 300.4 → 300.
    summary = tax_summary([(1001, TEN), (2003, TEN)])
    assert [(r.taxable_jpy, r.tax_jpy, r.total_jpy) for r in summary.per_rate] == [
        (3004, 300, 3304)
    ]
    # A case where per-line rounding would differ: 3 × 1,009 → per line 100 × 3 = 300,
    # once on 3,027 → 302.7 → 302.
    summary = tax_summary([(1009, TEN)] * 3)
    assert summary.tax_jpy == 302
    assert summary.total_jpy == 3027 + 302


def test_two_rates_each_rounded_on_their_own_total():
    summary = tax_summary([(1001, TEN), (999, EIGHT), (555, EIGHT), (2003, TEN)])
    assert [(r.rate, r.taxable_jpy, r.tax_jpy) for r in summary.per_rate] == [
        (TEN, 3004, 300),  # 300.4 → 300
        (EIGHT, 1554, 124),  # 124.32 → 124
    ]
    assert (summary.subtotal_jpy, summary.tax_jpy, summary.total_jpy) == (4558, 424, 4982)


def test_truncation_toward_zero_and_tax_inclusive_amounts():
    assert tax_on(9, TEN) == 0  # 0.9 → 0
    assert tax_on(19, TEN) == 1  # 1.9 → 1
    assert tax_on(-1005, TEN) == -100  # a credit note: −100.5 → −100 (toward zero)
    # 税込 11,000 at 10 % holds 1,000 tax; 10,999 holds 999.909… → 999.
    assert tax_on(11000, TEN, includes_tax=True) == 1000
    summary = tax_summary([(10999, TEN)], amounts_include_tax=True)
    assert (summary.subtotal_jpy, summary.tax_jpy, summary.total_jpy) == (10000, 999, 10999)


def test_money_types_are_enforced():
    with pytest.raises(TypeError):
        tax_summary([(100.0, TEN)])
    with pytest.raises(TypeError):
        tax_summary([(100, 0.1)])
    with pytest.raises(ValueError):
        tax_on(100, D("1.5"))
    assert percent(TEN) == "10%" and percent(EIGHT) == "8%"


ISSUER = Party(
    "一般社団法人ワットビット取引所",
    "Wattbit Exchange",
    "T1234567890123",
    "東京都千代田区丸の内1-1-1",
    contact="billing@wattbit.example",
)
RECIPIENT = Party("デルタAI株式会社", "Delta AI K.K.", "T9876543210987")
K0 = datetime(2030, 4, 1, 3, 0, tzinfo=UTC)


def _invoice(n_lines: int = 3) -> InvoiceDoc:
    compute = [
        InvoiceLine(
            "計算資源の利用料",
            "Compute",
            D("40.5"),
            "CU-h",
            D("180"),
            7290,
            interval_start=K0 + i * timedelta(minutes=30),
        )
        for i in range(n_lines)
    ]
    fee = InvoiceLine("取引手数料", "Market fee", D(1), "件", D(1001), 1001, transaction_date=date(2030, 4, 30))  # fmt: skip
    lines = (*compute, fee)
    return InvoiceDoc(
        ISSUER, RECIPIENT, "INV-2030-04-0001", date(2030, 5, 1), date(2030, 4, 1), date(2030, 4, 30), lines
    )  # fmt: skip


def test_invoice_pdf_embeds_the_japanese_font_and_required_fields():
    doc = _invoice()
    pdf = render_invoice_pdf(doc, "ja")
    assert pdf.startswith(b"%PDF-")
    assert b"IPAexGothic" in pdf and b"FontFile2" in pdf  # a TrueType font embedded
    summary = invoice_tax(doc)
    assert summary.subtotal_jpy == 3 * 7290 + 1001
    assert summary.tax_jpy == (3 * 7290 + 1001) // 10
    text = pdf_text(pdf, layout=True)
    for expected in (
        "適格請求書",
        "T1234567890123",  # issuer registration number
        "登録番号",
        "デルタAI株式会社",
        "取引年月日",
        "2030年4月1日",
        "税率ごとの合計と消費税額",
        f"¥{summary.tax_jpy:,}",
        f"¥{summary.total_jpy:,}",
        "2030-04-01 12:00",  # an interval shown in JST
    ):
        assert expected in text, expected


def test_invoice_pdf_in_english_and_refuses_unknown_language():
    pdf = render_invoice_pdf(_invoice(), "en")
    if has_pdftotext():
        text = pdf_text(pdf, layout=True)
        assert "Qualified invoice" in text and "T1234567890123" in text
        assert "Delta AI K.K." in text
    with pytest.raises(ValueError):
        render_invoice_pdf(_invoice(), "fr")


def _statement(n: int) -> StatementDoc:
    lines = []
    for i in range(n):
        at = K0 + i * timedelta(minutes=30)
        lines.append(StatementLine(at, "compute_charge", "計算資源", "Compute", D(16), "CU-h", -2880, "final"))  # fmt: skip
        lines.append(StatementLine(at, "uplift", "アップリフト", "Uplift", D(1), "件", 15, "provisional"))  # fmt: skip
    return StatementDoc(RECIPIENT, "2030-04", tuple(lines))


def test_statement_totals_and_csv_with_bom():
    doc = _statement(3)
    assert doc.totals.net_jpy == 3 * (-2880 + 15)
    assert doc.totals.by_kind == {"compute_charge": -8640, "uplift": 45}
    data = render_statement_csv(doc)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = data.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("interval_start_jst,interval_start_utc,kind")
    assert rows[1].startswith(
        "2030-04-01T12:00:00+09:00,2030-04-01T03:00:00Z,compute_charge,計算資源"
    )
    assert rows[-1].split(",")[7] == str(doc.totals.net_jpy)
    assert len(rows) == 1 + 6 + 1


def test_long_statement_pdf_spans_pages():
    pdf = render_statement_pdf(_statement(300), "ja")  # 600 lines: several tables and pages
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) > 5
    if has_pdftotext():
        text = pdf_text(pdf, layout=True)
        assert "取引明細書" in text and "-¥859,500" in text


def test_purchase_statement_is_addressed_to_the_seller():
    from dataclasses import replace

    seller = Party("ベータ計算株式会社", "Beta Compute K.K.", "T5555555555555")
    doc = replace(_invoice(), kind="purchase_statement", issuer=seller, recipient=ISSUER)
    pdf = render_invoice_pdf(doc, "ja")
    if has_pdftotext():
        text = pdf_text(pdf, layout=True)
        assert "仕入明細書" in text and "適格請求書" not in text
        assert "ベータ計算株式会社 御中" in text and "T5555555555555" in text
    with pytest.raises(ValueError):
        render_invoice_pdf(replace(doc, kind="receipt"))
