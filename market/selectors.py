"""Reads of the market, scoped to the requester: bids are sealed — only the owner reads them."""

from __future__ import annotations

from django.db.models import QuerySet

from market.choices import BidType
from market.models import BidRevision, CapacityOffer, EnergyOffer, Signal, WorkloadBid
from operators.actors import Actor


def _own(qs: QuerySet, actor: Actor) -> QuerySet:
    # Sealed: the owner's organisation only. Regulators and the market operator see
    # individual bids nowhere; after clearing they read aggregated public results instead.
    return qs.filter(organisation_id=actor.organisation.pk)


def capacity_offer_list(*, actor: Actor) -> QuerySet[CapacityOffer]:
    return _own(CapacityOffer.objects.select_related("site"), actor)


def energy_offer_list(*, actor: Actor) -> QuerySet[EnergyOffer]:
    return _own(EnergyOffer.objects.all(), actor)


def workload_bid_list(*, actor: Actor) -> QuerySet[WorkloadBid]:
    return _own(WorkloadBid.objects.select_related("home_site"), actor)


def bid_revision_list(*, actor: Actor, bid_type: BidType, bid_id: int) -> QuerySet[BidRevision]:
    return BidRevision.objects.filter(
        organisation_id=actor.organisation.pk, bid_type=bid_type, bid_id=bid_id
    ).order_by("revision")


def signal_list() -> QuerySet[Signal]:
    """Signals are public market information: every participant reads them."""
    return Signal.objects.all()
