"""The market in OpenADR 3.1 terms: the one translator from rows to the spec's JSON objects.

- Programs: one per (order kind, grid area), `dispatch-<kind>-<area>`, and one per area for
  published prices, `prices-<area>`. They are fixed by the market's design, so they are
  computed, with a fixed creation time.
- Events: each current dispatch order version is an event (`ord-<id>-v<version>`, the
  order's public id) in its kind's program: the interval, the site or area as targets, the
  set-point (CU for hosting and placement, kW for delivery) and the cleared price. Each
  published area price (a completed clearing's EnergyPrice row) is an event `prc-<id>`.
- Reports and subscriptions are stored (aggregator.openadr.models) and rendered here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aggregator.openadr.choices import ACK_PAYLOAD, ObjectType
from aggregator.openadr.models import Report, Subscription, Ven, VenResource
from market.models.clearing import EnergyPrice
from market.models.dispatch import DispatchOrder, OrderKind

# When the programs came to be: they are the market's design, not rows.
PROGRAMS_SINCE = datetime(2026, 4, 1, tzinfo=UTC)
INTERVAL_DURATION = "PT30M"
CU = "CU"  # a private unit: compute units, as each site declares one (docs/design.md §3)
CU_HOURS = "CU_H"
KW = "KW"
KWH = "KWH"
JPY = "JPY"

_ORDER_EVENT = re.compile(r"ord-([0-9]{1,18})-v([0-9]{1,9})")
_PRICE_EVENT = re.compile(r"prc-([0-9]{1,18})")
_PROGRAM = re.compile(r"(?:dispatch-(hosting|placement|delivery)|prices)-([a-z]{1,20})")


def when(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _meta(object_type: str, object_id: str, created: datetime, modified: datetime) -> dict:
    return {
        "id": object_id,
        "createdDateTime": when(created),
        "modificationDateTime": when(modified),
        "objectType": object_type,
    }


def dispatch_program_id(kind: str, area: str) -> str:
    return f"dispatch-{kind}-{area}"


def price_program_id(area: str) -> str:
    return f"prices-{area}"


def parse_program_id(text: str) -> tuple[str | None, str] | None:
    """(order kind or None for prices, area code), or None."""
    match = _PROGRAM.fullmatch(text or "")
    return (match[1], match[2]) if match else None


def parse_order_event_id(text: str) -> tuple[int, int] | None:
    match = _ORDER_EVENT.fullmatch(text or "")
    return (int(match[1]), int(match[2])) if match else None


def parse_price_event_id(text: str) -> int | None:
    match = _PRICE_EVENT.fullmatch(text or "")
    return int(match[1]) if match else None


def _setpoint_unit(kind: str) -> str:
    return KW if kind == OrderKind.DELIVERY else CU


def _price_unit(kind: str) -> str:
    return KWH if kind == OrderKind.DELIVERY else CU_HOURS


def program(kind: str | None, area) -> dict[str, Any]:
    """A program: `kind` None for the area's published prices."""
    if kind is None:
        program_id = price_program_id(area.code)
        descriptors = [_descriptor("PRICE", KWH, JPY)]
        description = f"Cleared energy prices in {area.name_en}"
    else:
        program_id = dispatch_program_id(kind, area.code)
        descriptors = [
            _descriptor("DISPATCH_SETPOINT", _setpoint_unit(kind)),
            _descriptor("PRICE", _price_unit(kind), JPY),
        ]
        description = f"{kind.capitalize()} orders in {area.name_en}"
    return {
        **_meta(ObjectType.PROGRAM, program_id, PROGRAMS_SINCE, PROGRAMS_SINCE),
        "programName": program_id,
        "programDescriptions": None,
        "payloadDescriptors": descriptors,
        "attributes": [
            {"type": "X_WATTBIT_AREA", "values": [area.code]},
            {"type": "X_WATTBIT_DESCRIPTION", "values": [description]},
        ],
        "targets": [f"area:{area.code}"],
    }


def _descriptor(payload_type: str, units: str, currency: str | None = None) -> dict:
    body = {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": payload_type, "units": units}
    if currency:
        body["currency"] = currency
    return body


def order_area(order: DispatchOrder) -> str:
    return order.area_id or order.site.area_id


def order_targets(order: DispatchOrder) -> list[str]:
    targets = [f"area:{order_area(order)}"]
    if order.site_id:
        targets.insert(0, f"site:{order.site.code}")
    return targets


def order_setpoint(order: DispatchOrder) -> float:
    """CU to run (hosting, placement), or kW to deliver on average over the 30 minutes."""
    if order.kind == OrderKind.DELIVERY:
        return float(order.total_kwh * 2)
    return float(order.total_cu)


def order_price(order: DispatchOrder) -> float | None:
    """The cleared price of the order's lines, weighted by quantity (JPY per CU-h or kWh)."""
    field, qty = {
        OrderKind.HOSTING: ("jpy_per_cu_h", "cu"),
        OrderKind.PLACEMENT: ("all_in_jpy_per_cu_h", "cu"),
        OrderKind.DELIVERY: ("jpy_per_kwh", "kwh"),
    }[order.kind]
    total = sum(Decimal(str(line.get(qty, 0))) for line in order.lines)
    if not total:
        return None
    weighted = sum(
        Decimal(str(line.get(qty, 0))) * Decimal(str(line.get(field, 0))) for line in order.lines
    )
    return float((weighted / total).quantize(Decimal("0.0001")))


def order_event(order: DispatchOrder) -> dict[str, Any]:
    payloads = [{"type": "DISPATCH_SETPOINT", "values": [order_setpoint(order)]}]
    price = order_price(order)
    if price is not None:
        payloads.append({"type": "PRICE", "values": [price]})
    modified = order.acked_at or order.created_at
    return {
        **_meta(ObjectType.EVENT, order.public_id, order.created_at, modified),
        "programID": dispatch_program_id(order.kind, order_area(order)),
        "eventName": order.idempotency_key,
        "priority": 0,
        "targets": order_targets(order),
        "reportDescriptors": [{"payloadType": ACK_PAYLOAD, "startInterval": 0}],
        "payloadDescriptors": [
            _descriptor("DISPATCH_SETPOINT", _setpoint_unit(order.kind)),
            _descriptor("PRICE", _price_unit(order.kind), JPY),
        ],
        "intervalPeriod": {"start": when(order.interval_start), "duration": INTERVAL_DURATION},
        "intervals": [{"id": 0, "payloads": payloads}],
    }


def price_event(price: EnergyPrice) -> dict[str, Any]:
    published = price.run.finished_at or price.run.created_at
    return {
        **_meta(ObjectType.EVENT, f"prc-{price.pk}", published, published),
        "programID": price_program_id(price.area_id),
        "eventName": f"price {price.area_id} {when(price.interval_start)}",
        "priority": 1,
        "targets": [f"area:{price.area_id}"],
        "payloadDescriptors": [_descriptor("PRICE", KWH, JPY)],
        "intervalPeriod": {"start": when(price.interval_start), "duration": INTERVAL_DURATION},
        "intervals": [
            {"id": 0, "payloads": [{"type": "PRICE", "values": [float(price.jpy_per_kwh)]}]}
        ],
    }


def report(row: Report) -> dict[str, Any]:
    return {
        **_meta(ObjectType.REPORT, f"rpt-{row.pk}", row.created_at, row.modified_at),
        "clientID": row.client.application.client_id,
        "eventID": row.event_id,
        "clientName": row.client_name,
        "reportName": row.report_name or None,
        "payloadDescriptors": row.payload_descriptors,
        "resources": row.resources,
    }


def subscription(row: Subscription) -> dict[str, Any]:
    body = {
        **_meta(ObjectType.SUBSCRIPTION, f"sub-{row.pk}", row.created_at, row.modified_at),
        "clientID": row.client.application.client_id,
        "clientName": row.client_name,
        "objectOperations": row.object_operations,
        "targets": row.targets,
    }
    if row.program_id:
        body["programID"] = row.program_id
    return body


def ven(row: Ven) -> dict[str, Any]:
    return {
        **_meta(ObjectType.VEN, f"ven-{row.pk}", row.created_at, row.modified_at),
        "objectType": ObjectType.VEN,
        "clientID": row.client.application.client_id,
        "venName": row.ven_name,
        "attributes": row.attributes,
        "targets": None,
    }


def resource(row: VenResource) -> dict[str, Any]:
    return {
        **_meta(ObjectType.RESOURCE, f"res-{row.pk}", row.created_at, row.modified_at),
        "clientID": row.ven.client.application.client_id,
        "resourceName": row.resource_name,
        "venID": f"ven-{row.ven_id}",
        "attributes": row.attributes,
        "targets": [f"site:{row.site.code}"] if row.site_id else None,
    }


def notification(operation: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "objectType": ObjectType.EVENT,
        "operation": operation,
        "object": event,
        "targets": event.get("targets"),
    }
