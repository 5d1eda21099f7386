"""Shared reportlab pieces of every wattbit PDF: page, styles, number formats, tables."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from settlement.documents.fonts import reportlab_font

JST = ZoneInfo("Asia/Tokyo")
LANGUAGES = ("ja", "en")
ROWS_PER_TABLE = 200  # long statements are split so one table never spans hundreds of pages
GRID = colors.HexColor("#9aa5b1")
HEAD = colors.HexColor("#e4e9ef")


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


def styles() -> dict[str, ParagraphStyle]:
    font = reportlab_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4
        ),
        "big": ParagraphStyle("big", parent=base, fontSize=14, leading=20),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
    }


def yen(amount: int) -> str:
    return f"-¥{-amount:,}" if amount < 0 else f"¥{amount:,}"


def number(value: Decimal | float | int, places: int = 3) -> str:
    """Thousands separators, trailing zeros dropped (12.500 → 12.5)."""
    text = f"{Decimal(str(value)):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def day_text(value: date, language: str) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if language == "ja" else value.isoformat()


def jst_text(value: datetime) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    widths: Sequence[float],
    *,
    numeric_from: int,
    extra: Sequence[tuple] = (),
) -> Table:
    """A bordered table with a repeated header row; columns ≥ `numeric_from` right-aligned."""
    table = Table([list(header), *[list(r) for r in rows]], colWidths=widths, repeatRows=1)
    table.hAlign = "LEFT"
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), reportlab_font(), 8),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
                *extra,
            ]
        )
    )
    return table


def chunked(rows: Sequence, size: int = ROWS_PER_TABLE):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def build_pdf(story: list, *, title: str, footer: str, landscape: bool = False) -> bytes:
    """Lay out `story` on A4 with a footer line and page numbers; returns the PDF bytes."""
    from reportlab.lib.pagesizes import landscape as rotate

    size = rotate(A4) if landscape else A4
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="wattbit",
        creator="wattbit",
    )
    font = reportlab_font()

    def on_page(canvas, _doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#52606d"))
        canvas.drawString(15 * mm, 10 * mm, footer)
        canvas.drawRightString(size[0] - 15 * mm, 10 * mm, f"{canvas.getPageNumber()}")
        canvas.restoreState()

    page: Callable = on_page
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buffer.getvalue()


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped: names may contain & or <)."""
    from xml.sax.saxutils import escape

    return Paragraph(escape(text).replace("\n", "<br/>"), style)


__all__ = [
    "JST",
    "build_pdf",
    "check_language",
    "chunked",
    "data_table",
    "day_text",
    "jst_text",
    "mm",
    "number",
    "paragraph",
    "styles",
    "yen",
]
