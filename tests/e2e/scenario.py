"""A small market for the end-to-end tests: providers, a workload owner, a supplier, bids, hooks.

The firm interval is chosen near the wall clock — its gate has just closed and it starts in
30–60 minutes — so that the real relay (`push_due_deliveries` with the wall clock) and the
real lease clock agree with the market clock. Bids are submitted with a controlled `now`
two hours before gate closure, as a participant would have done.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from http.server import ThreadingHTTPServer

from django.utils import timezone

from market import calendar, services
from market.choices import BidType, SignalKind
from market.models import MarketParameters, Signal
from operators import services as op_services
from operators.choices import MemberRole
from operators.models import GridArea, Site
from tests.conftest import _member, _org, actor_of
from tests.support.receiver import Receiver

# prov1 builds in Kyushu (where the supplier's curtailed solar is cheap), prov2 in Tokyo.
AREAS = {"prov1": ["kyushu", "kansai"], "prov2": ["tokyo", "kansai"]}
ZONES = {"tokyo": 2, "osaka": 9, "fukuoka": 20}


def firm_interval(now: datetime | None = None) -> datetime:
    """The latest interval whose gate has closed at `now` (lead from MarketParameters)."""
    now = now or timezone.now()
    lead = MarketParameters.current().gate_closure_lead_minutes
    due = calendar.due_for_clearing(now, lead)
    return due[-1]


@dataclass
class Market:
    interval: datetime
    horizon: int
    members: dict = field(default_factory=dict)  # slug → Membership (admin)
    receivers: dict = field(default_factory=dict)  # slug → Receiver
    endpoints: dict = field(default_factory=dict)  # slug → WebhookEndpoint
    sites: list = field(default_factory=list)

    @property
    def gate_closure(self) -> datetime:
        lead = MarketParameters.current().gate_closure_lead_minutes
        return calendar.gate_closure(self.interval, lead)

    def stop(self) -> None:
        for receiver in self.receivers.values():
            receiver.stop()


def _prices(start: datetime, n: int) -> None:
    Signal.objects.bulk_create(
        Signal(
            kind=SignalKind.AREA_PRICE,
            area_id=area,
            interval_start=start + i * calendar.INTERVAL,
            value=Decimal("12") + (i % 5),
            source="e2e",
            published_at=start - timedelta(days=1),
        )
        for area in GridArea.objects.values_list("code", flat=True)
        for i in range(n)
    )


def build_market(
    *,
    horizon: int = 4,
    sites_per_provider: int = 1,
    workloads: int = 2,
    batch_every: int = 2,
    url_for: dict[str, str] | None = None,
    interval: datetime | None = None,
    intervals: int | None = None,
    price_history: int = 2,
) -> Market:
    """Two providers, a workload owner and a supplier, each with a receiver and a webhook.

    `horizon` and the counts size the problem: the kill and Redis tests need a solve that
    lasts long enough to be interrupted. `url_for` overrides a webhook URL (e.g. a proxy).
    The bids start at `interval` (default: the interval firm now) and last `intervals`
    (default: one horizon), e.g. a whole day for a test on a simulated clock; area prices
    start `price_history` intervals earlier (earlier intervals that beat clears need them).
    """
    params = MarketParameters.current()
    params.horizon_intervals = horizon
    params.save()
    interval = interval or firm_interval()
    market = Market(interval=interval, horizon=horizon)
    bid_now = market.gate_closure - timedelta(hours=2)
    # Prices from two intervals earlier: a beat at this gate closure also finds the
    # interval before due, and clears it (with nothing firm in it).
    length = intervals or horizon  # how many intervals each bid lasts
    # ...and through the horizon of the last interval bid for, when the bids last longer.
    _prices(
        interval - price_history * calendar.INTERVAL,
        length + price_history + (horizon if intervals else 0),
    )
    orgs = {
        "prov1": ["compute_provider"],
        "prov2": ["compute_provider"],
        "ai": ["workload_owner"],
        "sun": ["power_supplier"],
    }
    for slug, roles in orgs.items():
        org = _org(slug, roles)
        member = _member(org, f"{slug}-admin", MemberRole.ADMIN)
        market.members[slug] = member
        receiver = Receiver().start()
        url = (url_for or {}).get(slug, receiver.url)
        endpoint, secret = op_services.webhook_endpoint_create(
            actor=actor_of(member), url=url, description="e2e"
        )
        receiver.secret = secret
        market.receivers[slug] = receiver
        market.endpoints[slug] = endpoint

    start = calendar.iso_z(interval)
    for p, slug in enumerate(("prov1", "prov2")):
        for s in range(sites_per_provider):
            area = AREAS[slug][s % 2]
            site = op_services.site_register(
                actor=actor_of(market.members[slug]),
                code=f"{slug}-{area}-{s}",
                name=f"{slug} {area} {s}",
                area=area,
                prefecture="tokyo",
                accelerator="h100",
                capacity_cu=512,
                kw_per_cu="1.0",
                pue="1.3",
                residency_tags=["jp"],
                latency_ms=ZONES,
            )
            market.sites.append(site)
            services.bid_submit(
                actor=actor_of(market.members[slug]),
                bid_type=BidType.CAPACITY,
                data={
                    "start": start,
                    "intervals": length,
                    "site": site.code,
                    # Small offers, so that demand spills over to both providers.
                    "cu": [8 + 8 * s] * length,
                    "price": [120 + 10 * p + s] * length,
                },
                now=bid_now,
            )
    ai = actor_of(market.members["ai"])
    for w in range(workloads):
        if w % batch_every:
            data = {
                "kind": "inference",
                "accelerator": "h100",
                "residency_tags": ["jp"],
                "limit_price": 700 + w,
                "zone": "tokyo",
                "max_latency_ms": 25,
                "demand": [6 + w % 5] * length,
            }
        else:
            data = {
                "kind": "batch",
                "accelerator": "h100",
                "limit_price": 400 + w,
                "remaining_cu_intervals": 8 * min(length, 6),
                "max_cu": 16,
                "gang": 8,
                "migration_cost": 5,
                "allowed_areas": ["tokyo", "kansai", "kyushu"],
            }
        services.bid_submit(
            actor=ai,
            bid_type=BidType.WORKLOAD,
            data={"start": start, "intervals": length, **data},
            now=bid_now,
        )
    services.bid_submit(
        actor=actor_of(market.members["sun"]),
        bid_type=BidType.ENERGY,
        data={
            "start": start,
            "intervals": length,
            "area": "kyushu",
            "kwh": [400] * length,
            "price": [1] * length,
            "carbon_g_per_kwh": 20,
            "curtailment_relief": True,
        },
        now=bid_now,
    )
    return market


def receiver_down(receiver: Receiver) -> int:
    """Take a receiver off the network (connections refused); returns its port."""
    port = receiver.server.server_address[1]
    receiver.handler = receiver.server.RequestHandlerClass
    receiver.stop()
    return port


def receiver_up(receiver: Receiver, port: int) -> None:
    """Bring it back on the same address, with what it had already processed."""
    receiver.server = ThreadingHTTPServer(("127.0.0.1", port), receiver.handler)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()


__all__ = ["Market", "Site", "build_market", "firm_interval", "receiver_down", "receiver_up"]
