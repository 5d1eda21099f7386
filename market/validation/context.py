"""What bid validation reads from the database, loaded once per request (or bulk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from market.models import MarketParameters
from market.selectors import cleared_through
from operators.models import DemandZone, GridArea, Site


@dataclass(frozen=True)
class SiteInfo:
    pk: int
    code: str
    organisation_id: int
    area: str
    accelerator: str
    capacity_cu: int
    residency: frozenset[str]
    latency_ms: dict[str, int]


@dataclass
class BidContext:
    """What validation needs from the database, loaded once (a bulk of 10,000 bids shares it)."""

    now: datetime
    params: MarketParameters
    organisation_id: int
    sites: dict[str, SiteInfo] = field(default_factory=dict)
    areas: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    # The latest interval a clearing run has started for; no bid may reach back to it.
    cleared_through: datetime | None = None

    @classmethod
    def load(cls, *, organisation_id: int, now: datetime) -> BidContext:
        sites = {
            s.code: SiteInfo(
                pk=s.pk,
                code=s.code,
                organisation_id=s.organisation_id,
                area=s.area_id,
                accelerator=s.accelerator,
                capacity_cu=s.capacity_cu,
                residency=frozenset(s.residency_tags or ()),
                latency_ms=dict(s.latency_ms or {}),
            )
            for s in Site.objects.filter(is_active=True)
        }
        return cls(
            now=now,
            params=MarketParameters.current(),
            organisation_id=organisation_id,
            sites=sites,
            areas=frozenset(GridArea.objects.values_list("code", flat=True)),
            zones=frozenset(DemandZone.objects.values_list("code", flat=True)),
            cleared_through=cleared_through(),
        )
