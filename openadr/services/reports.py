"""A VEN's report: an acknowledgement of a dispatch order, recorded by the market's own
service (market.services.dispatch.order_acknowledge), as the REST API records it."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregator.platform.audit import audit_record
from aggregator.platform.errors import InvalidInput
from market.services.dispatch import order_acknowledge
from openadr import selectors
from openadr.choices import ACK_ACCEPT, ACK_PAYLOAD, ACK_REJECT, OpenAdrAudit
from openadr.models import Report, VenClient
from operators.actors import Actor


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
def report_create(*, actor: Actor, client: VenClient, data: dict[str, Any]) -> Report:
    """Store the report; an acknowledgement in it accepts or rejects the event's order."""
    order = selectors.order_for_event(actor=actor, event_id=data["eventID"])
    if order is None:
        # 400, not 404: the document's POST /reports answers no 404 (the path exists).
        raise InvalidInput.from_errors(
            {"eventID": [_("No such event among your dispatch orders.")]}
        )
    ack = _acknowledgement(data["resources"])
    if ack is None:
        raise InvalidInput.from_errors(
            {"resources": [_("The report carries no %(type)s payload.") % {"type": ACK_PAYLOAD}]}
        )
    accept, reason = ack
    order_acknowledge(actor=actor, order=order, accept=accept, reason=reason)
    now = timezone.now()
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
        payload={"event": data["eventID"], "order": order.idempotency_key, "accept": accept},
    )
    return report
