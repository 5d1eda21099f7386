"""Bids from a CSV file: one row per bid, the API's field names as columns.

List cells (profiles, tags, areas) separate values with `|` or spaces, so a row stays one
CSV record. Errors come back per row number (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from aggregator.platform.errors import InvalidInput

LIST_COLUMNS = {"cu", "price", "kwh", "demand", "residency_tags", "allowed_areas"}
SCALAR_COLUMNS = {
    "start", "intervals", "site", "area", "kind", "accelerator", "limit_price", "zone",
    "max_latency_ms", "carbon_g_per_kwh", "curtailment_relief", "remaining_cu_intervals",
    "max_cu", "gang", "migration_cost", "home_site", "no_migration",
}  # fmt: skip
INT_COLUMNS = {"intervals", "max_latency_ms", "gang"}
BOOL_COLUMNS = {"curtailment_relief", "no_migration"}
MAX_BYTES = 20 * 1024 * 1024
TEMPLATE_COLUMNS = (
    "type", "start", "intervals", "site", "area", "kind", "accelerator", "limit_price", "zone",
    "max_latency_ms", "cu", "price", "kwh", "carbon_g_per_kwh", "curtailment_relief", "demand",
    "remaining_cu_intervals", "max_cu", "gang", "migration_cost", "no_migration", "home_site",
    "residency_tags", "allowed_areas",
)  # fmt: skip


@dataclass(frozen=True)
class TemplateSite:
    code: str
    accelerator: str
    cu: int


def template_csv(
    *,
    start: str,
    roles: list[str],
    own_sites: list[TemplateSite],
    any_site: TemplateSite | None,
    area: str,
) -> str:
    """A CSV template with one example row per kind of bid the organisation may make, filled
    with its own site, a real area and an open interval, so that it uploads as it is."""
    rows: list[dict[str, str]] = []
    if "compute_provider" in roles and own_sites:
        site = own_sites[0]
        cu = max(1, min(32, site.cu))
        rows.append({"type": "capacity", "site": site.code, "cu": f"{cu}|{cu}|{cu}|{cu}",
                     "price": "180|180|170|170"})  # fmt: skip
    if "power_supplier" in roles:
        rows.append({"type": "energy", "area": area, "kwh": "2000|2000|1500|1500",
                     "price": "8|8|6|6", "carbon_g_per_kwh": "20",
                     "curtailment_relief": "false"})  # fmt: skip
    if "workload_owner" in roles and any_site is not None:
        accelerator = any_site.accelerator
        rows.append({"type": "workload", "kind": "inference", "accelerator": accelerator,
                     "limit_price": "900", "demand": "4|6|6|4"})  # fmt: skip
        rows.append({"type": "workload", "kind": "batch", "accelerator": accelerator,
                     "limit_price": "600", "remaining_cu_intervals": "16", "max_cu": "8",
                     "migration_cost": "50", "no_migration": "false",
                     "home_site": any_site.code})  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TEMPLATE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"start": start, "intervals": "4", **row})
    return out.getvalue()


def _cell(column: str, raw: str) -> Any:
    value = raw.strip()
    if column in LIST_COLUMNS:
        return [v for v in value.replace("|", " ").split() if v]
    if column in INT_COLUMNS:
        try:
            return int(value)
        except ValueError:
            return value  # validation names the field
    if column in BOOL_COLUMNS:
        return value.lower() in ("1", "true", "yes", "y")
    return value


def parse_bid_csv(content: bytes) -> list[dict[str, Any]]:
    """Rows as bid payloads for `bids_submit_bulk`; a malformed file is one clear error."""
    if len(content) > MAX_BYTES:
        raise InvalidInput.from_errors({"file": [_("The file is larger than 20 MB.")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.from_errors({"file": [_("Save the file as UTF-8 CSV.")]}) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "type" not in header:
        raise InvalidInput.from_errors(
            {"file": [_("The first row must be a header with a 'type' column.")]}
        )
    unknown = sorted(set(header) - LIST_COLUMNS - SCALAR_COLUMNS - {"type"})
    if unknown:
        raise InvalidInput.from_errors(
            {"file": [_("Unknown column(s): %(c)s.") % {"c": ", ".join(unknown)}]}
        )
    items = []
    for row in reader:
        item: dict[str, Any] = {}
        for column, raw in row.items():
            if column is None or raw is None or not str(raw).strip():
                continue
            column = column.strip()
            item[column] = raw.strip() if column == "type" else _cell(column, raw)
        if item:
            items.append(item)
    if not items:
        raise InvalidInput.from_errors({"file": [_("The file has no bid rows.")]})
    return items


def row_errors(error: InvalidInput) -> list[tuple[int, str, str]]:
    """(row number, field, message) from a bulk submission's per-index errors."""
    rows = []
    for item in error.errors.get("bids", []):
        if isinstance(item, dict):
            for field, messages in item["errors"].items():
                for message in messages:
                    rows.append((item["index"] + 2, field, message))
    return rows
