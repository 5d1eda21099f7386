"""Qualified invoices (適格請求書) and monthly statements as PDF, in Japanese or English.

A qualified invoice must show (消費税法 第57条の4): the issuer's name and registration
number, the transaction dates, the items, the totals per tax rate with the rate, the
consumption tax per rate, and the recipient's name. Every page embeds IPAexGothic.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.platypus import Spacer, Table, TableStyle

from settlement.documents.fonts import reportlab_font
from settlement.documents.pdfbase import (
    build_pdf,
    check_language,
    chunked,
    data_table,
    day_text,
    jst_text,
    mm,
    number,
    paragraph,
    styles,
    yen,
)
from settlement.documents.tax import invoice_tax, percent
from settlement.documents.types import InvoiceDoc, InvoiceLine, StatementDoc

INVOICE_LABELS = {
    "ja": {
        "title": "適格請求書",
        "number": "請求書番号",
        "issued": "発行日",
        "due": "お支払期限",
        "registration": "登録番号",
        "to": "{name} 御中",
        "period": "取引期間",
        "amount_due": "ご請求金額（税込）",
        "items": "明細",
        "cols": ("取引年月日", "内容", "数量", "単位", "単価", "金額", "税率"),
        "rate_cols": ("税率", "対象金額（税抜）", "消費税額", "合計（税込）"),
        "rate_cols_incl": ("税率", "対象金額（税込）", "うち消費税額", "合計（税込）"),
        "per_rate": "税率ごとの合計と消費税額",
        "subtotal": "小計（税抜）",
        "tax": "消費税額",
        "total": "合計（税込）",
        "rounding": "消費税額は税率ごとの合計額に対して一度だけ計算し、1円未満を切り捨てています。",
        "amounts_excl": "明細の金額は税抜です。",
        "amounts_incl": "明細の金額は税込です。",
    },
    "en": {
        "title": "Qualified invoice",
        "number": "Invoice number",
        "issued": "Issue date",
        "due": "Payment due",
        "registration": "Registration number",
        "to": "To: {name}",
        "period": "Transaction period",
        "amount_due": "Amount due (tax included)",
        "items": "Items",
        "cols": ("Date", "Description", "Quantity", "Unit", "Unit price", "Amount", "Tax"),
        "rate_cols": ("Tax rate", "Taxable (excl. tax)", "Consumption tax", "Total (incl.)"),
        "rate_cols_incl": ("Tax rate", "Amount (incl. tax)", "of which tax", "Total (incl.)"),
        "per_rate": "Totals and consumption tax per rate",
        "subtotal": "Subtotal (excl. tax)",
        "tax": "Consumption tax",
        "total": "Total (incl. tax)",
        "rounding": "Consumption tax is computed once per tax rate on that rate's total; "
        "fractions of a yen are truncated.",
        "amounts_excl": "Item amounts exclude tax.",
        "amounts_incl": "Item amounts include tax.",
    },
}

# A 仕入明細書 has the invoice's fields; only the wording differs.
PURCHASE_LABELS = {
    "ja": {
        "title": "仕入明細書",
        "number": "明細書番号",
        "amount_due": "お支払金額（税込）",
    },
    "en": {
        "title": "Purchase statement",
        "number": "Statement number",
        "amount_due": "Amount payable to you (tax included)",
    },
}
INVOICE_KINDS = ("invoice", "purchase_statement")

STATEMENT_LABELS = {
    "ja": {
        "title": "取引明細書",
        "month": "対象月",
        "number": "明細書番号",
        "issued": "発行日",
        "registration": "登録番号",
        "cols": ("コマ開始（JST）", "区分", "内容", "数量", "単位", "金額", "状態"),
        "totals": "合計",
        "credits": "受取額（仕入明細書・税抜）",
        "charges": "支払額（請求書・税抜）",
        "provisional": "うち暫定計上（発注量ベース）",
        "reversals": "うち暫定分の取消",
        "net": "差引",
        "by_kind": "区分ごとの合計",
        "sign": "金額は正が貴社の受取、負が貴社の支払です。",
        "empty": "この月の明細はありません。",
    },
    "en": {
        "title": "Statement",
        "month": "Month",
        "number": "Statement number",
        "issued": "Issue date",
        "registration": "Registration number",
        "cols": ("Interval (JST)", "Kind", "Description", "Quantity", "Unit", "Amount", "Status"),
        "totals": "Totals",
        "credits": "Credits (purchase statement, before tax)",
        "charges": "Charges (invoice, before tax)",
        "provisional": "of which provisional (on ordered amounts)",
        "reversals": "of which reversals of provisional lines",
        "net": "Net",
        "by_kind": "Totals by kind",
        "sign": "Positive amounts are credits to you, negative amounts are charges to you.",
        "empty": "No lines this month.",
    },
}


def _line_date(line: InvoiceLine, language: str) -> str:
    if line.interval_start is not None:
        return jst_text(line.interval_start)
    if line.transaction_date is not None:
        return day_text(line.transaction_date, language)
    return ""


def _header_block(left: list, right: list, width: float) -> Table:
    rows = max(len(left), len(right))
    left = left + [""] * (rows - len(left))
    right = right + [""] * (rows - len(right))
    table = Table(list(zip(left, right, strict=True)), colWidths=[width * 0.52, width * 0.48])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def render_invoice_pdf(doc: InvoiceDoc, language: str = "ja") -> bytes:
    """The qualified invoice as PDF bytes (A4, IPAexGothic embedded)."""
    lang = check_language(language)
    if doc.kind not in INVOICE_KINDS:
        raise ValueError(
            f"invoice kind must be one of {', '.join(INVOICE_KINDS)}, got {doc.kind!r}"
        )
    label = INVOICE_LABELS[lang]
    if doc.kind == "purchase_statement":
        label = {**label, **PURCHASE_LABELS[lang]}
    st = styles()
    summary = invoice_tax(doc)
    width = 180 * mm
    left, right = _invoice_parties(doc, lang, label, st, summary)
    story: list = [
        paragraph(label["title"], st["title"]),
        _header_block(left, right, width),
        Spacer(1, 5 * mm),
        paragraph(label["items"], st["h2"]),
        *_invoice_items(doc, lang, label, st),
        *_invoice_tax_summary(doc, label, st, summary),
    ]
    notes = [
        label["amounts_incl" if doc.amounts_include_tax else "amounts_excl"],
        label["rounding"],
    ]
    note = doc.notes_ja if lang == "ja" else doc.notes_en
    if note:
        notes.append(note)
    story += [Spacer(1, 3 * mm), *(paragraph(text, st["small"]) for text in notes)]
    seller = doc.issuer
    footer = f"{label['title']} {doc.invoice_number} — {seller.name(lang)} ({seller.registration_number})"
    return build_pdf(story, title=f"{label['title']} {doc.invoice_number}", footer=footer)


def _invoice_parties(
    doc: InvoiceDoc, lang: str, label: dict, st: dict, summary
) -> tuple[list, list]:
    """The header's two columns: recipient, period and amount due; number, dates and issuer."""
    issuer, recipient = doc.issuer, doc.recipient
    if doc.kind == "purchase_statement":
        # The buyer prepares a 仕入明細書 and addresses it to the seller (the issuer of
        # the supply), whose registration number it must show.
        issuer, recipient = recipient, issuer
    left = [paragraph(label["to"].format(name=recipient.name(lang)), st["big"])]
    if recipient.registration_number:
        left.append(
            paragraph(f"{label['registration']}: {recipient.registration_number}", st["base"])
        )
    if recipient.address(lang):
        left.append(paragraph(recipient.address(lang), st["base"]))
    left += [
        Spacer(1, 4 * mm),
        paragraph(
            f"{label['period']}: {day_text(doc.period_start, lang)} – {day_text(doc.period_end, lang)}",
            st["base"],
        ),
        paragraph(label["amount_due"], st["base"]),
        paragraph(yen(summary.total_jpy), st["title"]),
    ]
    right = [
        paragraph(f"{label['number']}: {doc.invoice_number}", st["right"]),
        paragraph(f"{label['issued']}: {day_text(doc.issue_date, lang)}", st["right"]),
    ]
    if doc.due_date:
        right.append(paragraph(f"{label['due']}: {day_text(doc.due_date, lang)}", st["right"]))
    right += [Spacer(1, 3 * mm), paragraph(issuer.name(lang), st["right"])]
    if issuer.registration_number:
        right.append(
            paragraph(f"{label['registration']}: {issuer.registration_number}", st["right"])
        )
    if issuer.address(lang):
        right.append(paragraph(issuer.address(lang), st["right"]))
    if issuer.contact:
        right.append(paragraph(issuer.contact, st["right"]))

    return left, right


def _invoice_items(doc: InvoiceDoc, lang: str, label: dict, st: dict) -> list:
    """The line items, as tables split across pages."""
    story: list = []
    rows = [
        [
            _line_date(line, lang),
            paragraph(line.description(lang), st["cell"]),
            number(line.quantity),
            line.unit,
            number(line.unit_price_jpy, 4),
            yen(line.amount_jpy),
            percent(line.tax_rate),
        ]
        for line in doc.lines
    ]
    widths = [30 * mm, 56 * mm, 20 * mm, 13 * mm, 22 * mm, 25 * mm, 14 * mm]
    for part in chunked(rows) if rows else [[]]:
        story.append(data_table(label["cols"], part, widths, numeric_from=2))

    return story


def _invoice_tax_summary(doc: InvoiceDoc, label: dict, st: dict, summary) -> list:
    """Per tax rate: taxable amount and tax, then subtotal, tax and total."""
    story: list = [Spacer(1, 5 * mm), paragraph(label["per_rate"], st["h2"])]
    rate_rows = [
        [percent(r.rate), yen(r.taxable_jpy), yen(r.tax_jpy), yen(r.total_jpy)]
        for r in summary.per_rate
    ]
    bold = reportlab_font()
    totals = [
        ["", label["subtotal"], "", yen(summary.subtotal_jpy)],
        ["", label["tax"], "", yen(summary.tax_jpy)],
        ["", label["total"], "", yen(summary.total_jpy)],
    ]
    n = len(rate_rows)
    story.append(
        data_table(
            label["rate_cols_incl"] if doc.amounts_include_tax else label["rate_cols"],
            rate_rows + totals,
            [30 * mm, 50 * mm, 50 * mm, 50 * mm],
            numeric_from=1,
            extra=[
                ("SPAN", (1, n + 1), (2, n + 1)),
                ("SPAN", (1, n + 2), (2, n + 2)),
                ("SPAN", (1, n + 3), (2, n + 3)),
                ("ALIGN", (1, n + 1), (2, n + 3), "LEFT"),
                ("FONT", (0, n + 3), (-1, n + 3), bold, 10),
                ("BACKGROUND", (0, n + 3), (-1, n + 3), colors.HexColor("#f4f6f8")),
            ],
        )
    )
    return story


def render_statement_pdf(doc: StatementDoc, language: str = "ja") -> bytes:
    """Every interval line of the month with totals per kind and overall (A4 landscape)."""
    lang = check_language(language)
    label = STATEMENT_LABELS[lang]
    st = styles()
    org = doc.organisation
    heading = [f"{label['month']}: {doc.month}"]
    if doc.statement_number:
        heading.append(f"{label['number']}: {doc.statement_number}")
    if doc.issue_date:
        heading.append(f"{label['issued']}: {day_text(doc.issue_date, lang)}")
    story: list = [
        paragraph(f"{label['title']} — {org.name(lang)}", st["title"]),
        paragraph("　".join(heading), st["base"]),
    ]
    if org.registration_number:
        story.append(paragraph(f"{label['registration']}: {org.registration_number}", st["base"]))
    story += [paragraph(label["sign"], st["small"]), Spacer(1, 4 * mm)]

    totals = doc.totals
    summary_rows = [[kind, yen(amount)] for kind, amount in totals.by_kind.items()]
    summary_rows += [
        [label["credits"], yen(totals.credits_jpy)],
        [label["charges"], yen(totals.charges_jpy)],
        [label["provisional"], yen(totals.provisional_jpy)],
        [label["reversals"], yen(totals.reversals_jpy)],
        [label["net"], yen(totals.net_jpy)],
    ]
    story += [
        paragraph(label["by_kind"], st["h2"]),
        data_table(
            (label["totals"], ""),
            summary_rows,
            [70 * mm, 40 * mm],
            numeric_from=1,
            extra=[("FONT", (0, len(summary_rows)), (-1, len(summary_rows)), reportlab_font(), 10)],
        ),
        Spacer(1, 5 * mm),
    ]
    rows = [
        [
            jst_text(line.interval_start),
            line.kind,
            paragraph(line.description(lang), st["cell"]),
            number(line.quantity),
            line.unit,
            yen(line.amount_jpy),
            line.status,
        ]
        for line in doc.lines
    ]
    if not rows:
        story.append(paragraph(label["empty"], st["base"]))
    widths = [32 * mm, 32 * mm, 95 * mm, 26 * mm, 18 * mm, 32 * mm, 24 * mm]
    for part in chunked(rows):
        story.append(data_table(label["cols"], part, widths, numeric_from=3))
    footer = f"{label['title']} {doc.month} — {org.name(lang)}"
    return build_pdf(story, title=f"{label['title']} {doc.month}", footer=footer, landscape=True)
