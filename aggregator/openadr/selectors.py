"""Reads of the VTN, scoped to the requesting actor: one's own orders' events and the public
prices; one's own client's VENs, resources, reports and subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from aggregator.openadr import payloads
from aggregator.openadr.models import Report, Subscription, Ven, VenClient, VenResource
from market.clearing_selectors import order_list
from market.models.clearing import EnergyPrice, RunStatus
from market.models.dispatch import DispatchOrder, OrderKind
from operators.actors import Actor
from operators.models import GridArea


@dataclass(frozen=True)
class Page:
    skip: int = 0
    limit: int = 50


def programs(*, targets: list[str] | None = None) -> list[dict]:
    """Every program: public, the market's own structure (no participant data in it)."""
    out = []
    for area in GridArea.objects.all():
        for kind in OrderKind.values:
            out.append(payloads.program(kind, area))
        out.append(payloads.program(None, area))
    if targets:
        out = [p for p in out if set(p["targets"]) & set(targets)]
    return out


def program_get(program_id: str) -> dict | None:
    parsed = payloads.parse_program_id(program_id)
    if parsed is None:
        return None
    kind, code = parsed
    area = GridArea.objects.filter(code=code).first()
    return payloads.program(kind, area) if area is not None else None


def _orders(actor: Actor) -> QuerySet[DispatchOrder]:
    # The REST API's own selector: one's own orders only (regulators read all of them).
    return order_list(actor=actor).filter(is_current=True)


def _prices() -> QuerySet[EnergyPrice]:
    # Published: a completed clearing's firm interval only (docs/design.md §4).
    return EnergyPrice.objects.filter(run__status=RunStatus.COMPLETED).select_related("run")


def events(
    *, actor: Actor, program_id: str | None, targets: list[str] | None, page: Page
) -> list[dict]:
    """Newest interval first: one's dispatch-order events, then the published prices."""
    orders = _orders(actor)
    prices = _prices()
    if program_id:
        parsed = payloads.parse_program_id(program_id)
        if parsed is None:
            return []
        kind, area = parsed
        if kind is None:
            orders = orders.none()
            prices = prices.filter(area_id=area)
        else:
            orders = orders.filter(kind=kind).filter(area_id=area) | orders.filter(
                kind=kind, site__area_id=area
            )
            prices = prices.none()
    window = page.skip + page.limit
    rows = [payloads.order_event(o) for o in orders.order_by("-interval_start", "id")[:window]]
    rows += [payloads.price_event(p) for p in prices.order_by("-interval_start", "id")[:window]]
    rows.sort(key=lambda e: (e["intervalPeriod"]["start"], e["id"]), reverse=True)
    if targets:
        rows = [e for e in rows if set(e.get("targets") or ()) & set(targets)]
    return rows[page.skip : window]


def event_get(*, actor: Actor, event_id: str) -> dict | None:
    order_ref = payloads.parse_order_event_id(event_id)
    if order_ref is not None:
        order = _orders(actor).filter(pk=order_ref[0], version=order_ref[1]).first()
        return payloads.order_event(order) if order is not None else None
    price_pk = payloads.parse_price_event_id(event_id)
    if price_pk is not None:
        price = _prices().filter(pk=price_pk).first()
        return payloads.price_event(price) if price is not None else None
    return None


def order_for_event(*, actor: Actor, event_id: str) -> DispatchOrder | None:
    order_ref = payloads.parse_order_event_id(event_id)
    if order_ref is None:
        return None
    return (
        order_list(actor=actor)
        .filter(pk=order_ref[0], version=order_ref[1], organisation=actor.organisation)
        .first()
    )


def _pk(text: str, prefix: str) -> int | None:
    head, _sep, tail = (text or "").partition("-")
    return int(tail) if head == prefix and tail.isascii() and tail.isdigit() else None


def report_list(*, client: VenClient, event_id: str | None = None) -> QuerySet[Report]:
    qs = Report.objects.filter(client=client).select_related("client__application")
    return qs.filter(event_id=event_id) if event_id else qs.order_by("id")


def report_get(*, client: VenClient, report_id: str) -> Report | None:
    pk = _pk(report_id, "rpt")
    return report_list(client=client).filter(pk=pk).first() if pk else None


def subscription_list(*, client: VenClient) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(client=client, is_active=True)
        .select_related("client__application")
        .order_by("id")
    )


def subscription_get(*, client: VenClient, subscription_id: str) -> Subscription | None:
    pk = _pk(subscription_id, "sub")
    return subscription_list(client=client).filter(pk=pk).first() if pk else None


def ven_list(*, client: VenClient, ven_name: str | None = None) -> QuerySet[Ven]:
    qs = Ven.objects.filter(client=client).select_related("client__application").order_by("id")
    return qs.filter(ven_name=ven_name) if ven_name else qs


def ven_get(*, client: VenClient, ven_id: str) -> Ven | None:
    pk = _pk(ven_id, "ven")
    return ven_list(client=client).filter(pk=pk).first() if pk else None


def resource_list(*, client: VenClient, ven_id: str | None = None) -> QuerySet[VenResource]:
    qs = VenResource.objects.filter(ven__client=client).select_related(
        "ven__client__application", "site"
    )
    if ven_id:
        qs = qs.filter(ven_id=_pk(ven_id, "ven") or 0)
    return qs.order_by("id")


def resource_get(*, client: VenClient, resource_id: str) -> VenResource | None:
    pk = _pk(resource_id, "res")
    return resource_list(client=client).filter(pk=pk).first() if pk else None
