"""Monthly statements as CSV: UTF-8 with a BOM so that Excel in Japan opens it correctly."""

from __future__ import annotations

import csv as std_csv
import io
from datetime import UTC

from settlement.documents.pdfbase import JST
from settlement.documents.types import StatementDoc

HEADER = (
    "interval_start_jst",
    "interval_start_utc",
    "kind",
    "description_ja",
    "description_en",
    "quantity",
    "unit",
    "amount_jpy",
    "status",
    "reference",
)


def render_statement_csv(doc: StatementDoc) -> bytes:
    """One row per line, then a `total` row (kind "total") with the net amount.

    Machine-readable column names (English) and both descriptions; times as ISO 8601.
    """
    buffer = io.StringIO()
    writer = std_csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for line in doc.lines:
        writer.writerow(
            (
                line.interval_start.astimezone(JST).isoformat(),
                line.interval_start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                line.kind,
                line.description_ja,
                line.description_en,
                str(line.quantity),
                line.unit,
                line.amount_jpy,
                line.status,
                line.reference,
            )
        )
    writer.writerow(("", "", "total", "合計", "Total", "", "", doc.totals.net_jpy, "", doc.month))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
