"""Portal pages of the market: your own bids and their revisions (sealed: owner only)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from market import selectors
from market.choices import BidType
from operators.views import portal_view

LISTS = {
    BidType.CAPACITY: selectors.capacity_offer_list,
    BidType.ENERGY: selectors.energy_offer_list,
    BidType.WORKLOAD: selectors.workload_bid_list,
}


@portal_view
def bid_list(request):
    """Every bid of the acting organisation, newest first, per type."""
    actor = request.actor
    groups = [
        (bid_type, BidType(bid_type).label, LISTS[bid_type](actor=actor).order_by("-start")[:200])
        for bid_type in BidType.values
    ]
    return render(request, "market/bids.html", {"groups": groups})


@portal_view
def bid_detail(request, bid_type: str, pk: int):
    if bid_type not in LISTS:
        raise Http404
    # The selector scopes to the owner: another organisation's id is simply not found.
    bid = LISTS[bid_type](actor=request.actor).filter(pk=pk).first()
    if bid is None:
        raise Http404
    revisions = selectors.bid_revision_list(actor=request.actor, bid_type=bid_type, bid_id=pk)
    return render(
        request,
        "market/bid_detail.html",
        {"bid": bid, "bid_type": bid_type, "revisions": revisions, "frozen": bid.is_frozen()},
    )
