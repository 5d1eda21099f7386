"""A VEN's report: an acknowledgement of a dispatch order and/or meter data, recorded by
the services the REST API uses (market.services.dispatch.order_acknowledge,
settlement.services.meter.meter_report_bulk), in one transaction with the report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.openadr import payloads, selectors
from aggregator.openadr.choices import (
    ACK_ACCEPT,
    ACK_PAYLOAD,
    ACK_REJECT,
    CU_PAYLOAD,
    USAGE_PAYLOAD,
    OpenAdrAudit,
)
from aggregator.openadr.models import Report, VenClient
from aggregator.platform.audit import audit_record
from aggregator.platform.errors import InvalidInput
from market.models.dispatch import DispatchOrder, OrderKind
from market.services.dispatch import order_acknowledge
from operators.actors import Actor
from settlement.services.meter import meter_report_bulk


def _acknowledgement(resources: list[dict[str, Any]]) -> tuple[bool, str] | None:
    """(accept, reason) from the first X_WATTBIT_ORDER_ACK payload, or None if there is none."""
    for resource in resources:
        for interval in resource.get("intervals") or ():
            for payload in interval.get("payloads") or ():
                if payload.get("type") != ACK_PAYLOAD:
                    continue
                values = [str(v) for v in payload.get("values") or ()]
                if not values or values[0] not in (ACK_ACCEPT, ACK_REJECT):
                    raise InvalidInput.from_errors(
                        {
                            "resources": [
                                _("%(type)s takes ACCEPT, or REJECT and a reason.")
                                % {"type": ACK_PAYLOAD}
                            ]
                        }
                    )
                return values[0] == ACK_ACCEPT, " ".join(values[1:])
    return None


@transaction.atomic
def report_create(
    *, actor: Actor, client: VenClient, data: dict[str, Any], now: datetime | None = None
) -> Report:
    """Store the report; an acknowledgement in it accepts or rejects the event's order."""
    order = selectors.order_for_event(actor=actor, event_id=data["eventID"])
    if order is None:
        # 400, not 404: the document's POST /reports answers no 404 (the path exists).
        raise InvalidInput.from_errors(
            {"eventID": [_("No such event among your dispatch orders.")]}
        )
    ack = _acknowledgement(data["resources"])
    readings = _readings(order, data["resources"])
    if ack is None and not readings:
        raise InvalidInput.from_errors(
            {
                "resources": [
                    _("The report carries neither %(ack)s nor meter data (%(usage)s, %(cu)s).")
                    % {"ack": ACK_PAYLOAD, "usage": USAGE_PAYLOAD, "cu": CU_PAYLOAD}
                ]
            }
        )
    now = now or timezone.now()
    if ack is not None:
        accept, reason = ack
        order_acknowledge(actor=actor, order=order, accept=accept, reason=reason, now=now)
    if readings:
        meter_report_bulk(actor=actor, items=readings, now=now, source="openadr")
    report = Report.objects.create(
        client=client,
        organisation=actor.organisation,
        event_id=data["eventID"],
        order=order,
        client_name=data["clientName"],
        report_name=data.get("reportName") or "",
        payload_descriptors=data.get("payloadDescriptors"),
        resources=data["resources"],
        created_at=now,
        modified_at=now,
    )
    audit_record(
        code=OpenAdrAudit.REPORT_CREATED,
        actor_label=actor.label,
        organisation=actor.organisation,
        obj=report,
        payload={
            "event": data["eventID"],
            "order": order.idempotency_key,
            "accept": ack[0] if ack else None,
            "readings": len(readings),
        },
    )
    return report


def _readings(order: DispatchOrder, resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Meter readings in the REST API's shape (settlement.services.meter) from the report's
    USAGE (kWh) and CU payloads; that service checks them against what was ordered."""
    start = payloads.when(order.interval_start)
    items = []
    for resource in resources:
        name = resource["resourceName"]
        for interval in resource.get("intervals") or ():
            for payload in interval.get("payloads") or ():
                values = payload.get("values") or [None]
                if payload.get("type") == USAGE_PAYLOAD:
                    items.append(_energy_reading(order, name, start, values[0]))
                elif payload.get("type") == CU_PAYLOAD:
                    site = order.site.code if order.site_id else None
                    items.append(
                        {"kind": "compute", "interval_start": start, "site": site,
                         "workload": name, "cu": values[0]}
                    )  # fmt: skip
    return items


def _energy_reading(order: DispatchOrder, name: str, start: str, kwh: Any) -> dict[str, Any]:
    if order.kind == OrderKind.DELIVERY:
        # One delivery order covers the supplier's offers in an area: the resource names the
        # offer (en-3), or the order's only offer.
        offers = [line["offer"] for line in order.lines]
        offer = name if name in offers or len(offers) != 1 else offers[0]
        return {"kind": "supply", "interval_start": start, "offer": offer, "kwh": kwh}
    site = order.site.code if order.site_id else name
    return {"kind": "site_energy", "interval_start": start, "site": site, "kwh": kwh}
