"""Dispatch orders from firm allocations: who must do what, where, in the firm interval."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from aggregator.platform.public_ids import ENERGY_OFFER, WORKLOAD, format_public_id
from aggregator.platform.wire import wire_decimal, wire_instant, wire_json
from market.models.dispatch import DispatchOrder, OrderDelivery, OrderKind
from operators.models import WebhookEndpoint


def order_key(run_id: int, organisation_id: int, kind: str, place: str, version: int) -> str:
    return f"ord-{run_id}-{organisation_id}-{kind}-{place}-v{version}"


def build_order_rows(
    *,
    run,
    interval_start: datetime,
    allocations: list,
    awards: list,
    site_connection: dict[int, dict],
) -> list[DispatchOrder]:
    """Unsaved orders (version 1) for every organisation touched by the firm interval.

    Providers get one hosting order per site, workload owners one placement order per
    site, suppliers one delivery order per area. Lines are sorted so bytes are stable.
    """
    hosting: dict[tuple[int, int], list[dict]] = defaultdict(list)
    placement: dict[tuple[int, int], list[dict]] = defaultdict(list)
    delivery: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for a in allocations:
        site = a.site
        hosting[(site.organisation_id, site.pk)].append(
            {
                "workload": format_public_id(WORKLOAD, a.workload_id),
                "owner": a.workload.organisation.slug,
                "cu": float(a.cu),
                "jpy_per_cu_h": float(a.compute_jpy_per_cu_h),
            }
        )
        placement[(a.workload.organisation_id, site.pk)].append(
            {
                "workload": format_public_id(WORKLOAD, a.workload_id),
                "site": site.code,
                "cu": float(a.cu),
                "all_in_jpy_per_cu_h": float(a.all_in_jpy_per_cu_h),
                "connection": site_connection.get(site.pk, {}),
            }
        )
    for e in awards:
        delivery[(e.offer.organisation_id, e.offer.area_id)].append(
            {
                "offer": format_public_id(ENERGY_OFFER, e.offer_id),
                "kwh": float(e.kwh),
                "jpy_per_kwh": float(e.jpy_per_kwh),
            }
        )
    orders = []
    for kind, groups, place_field in (
        (OrderKind.HOSTING, hosting, "site_id"),
        (OrderKind.PLACEMENT, placement, "site_id"),
        (OrderKind.DELIVERY, delivery, "area_id"),
    ):
        for (org_id, place), lines in sorted(groups.items()):
            lines.sort(key=lambda line: tuple(str(v) for v in line.values()))
            orders.append(
                DispatchOrder(
                    run=run,
                    organisation_id=org_id,
                    kind=kind,
                    interval_start=interval_start,
                    lines=lines,
                    total_cu=Decimal(str(round(sum(x.get("cu", 0) for x in lines), 6))),
                    total_kwh=Decimal(str(round(sum(x.get("kwh", 0) for x in lines), 3))),
                    idempotency_key=order_key(run.pk, org_id, kind, str(place), 1),
                    **{place_field: place},
                )
            )
    return orders


def outbox_rows(orders: list[DispatchOrder], *, now: datetime) -> list[OrderDelivery]:
    """One pending delivery per order and active webhook endpoint of its organisation."""
    org_ids = {o.organisation_id for o in orders}
    endpoints: dict[int, list[int]] = defaultdict(list)
    for endpoint_id, org_id in WebhookEndpoint.objects.filter(
        organisation_id__in=org_ids, is_active=True
    ).values_list("id", "organisation_id"):
        endpoints[org_id].append(endpoint_id)
    return [
        OrderDelivery(order=o, endpoint_id=endpoint_id, next_attempt_at=now)
        for o in orders
        for endpoint_id in endpoints[o.organisation_id]
    ]


# Quantities and prices in an order's lines: decimal strings on the wire (docs/api.md).
LINE_QUANTITIES = frozenset({"cu", "kwh", "jpy_per_cu_h", "all_in_jpy_per_cu_h", "jpy_per_kwh"})


def order_payload(order: DispatchOrder) -> dict:
    """The JSON pushed to webhooks for one order version, in the API's convention (instants
    in JST, quantities as decimal strings), like the order in /api/v1/orders/."""
    return {
        "id": order.public_id,
        "order": order.pk,
        "version": order.version,
        "supersedes": order.supersedes_id,
        "kind": order.kind,
        "organisation": order.organisation.slug,
        "interval_start": wire_instant(order.interval_start),
        "site": order.site.code if order.site_id else None,
        "area": order.area_id,
        "lines": wire_json(order.lines, quantities=LINE_QUANTITIES),
        "total_cu": wire_decimal(order.total_cu),
        "total_kwh": wire_decimal(order.total_kwh),
        "reason": order.reason,
        "idempotency_key": order.idempotency_key,
        "acknowledge_url": f"/api/v1/orders/{order.pk}/acknowledge",
    }
