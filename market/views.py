"""Portal pages of the market: your own bids and their revisions (sealed: owner only)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from aggregator.platform.portal import portal_view
from market import calendar, selectors
from market.choices import BidStatus, BidType

PAGE = 50  # bids per type and page

LISTS = {
    BidType.CAPACITY: selectors.capacity_offer_list,
    BidType.ENERGY: selectors.energy_offer_list,
    BidType.WORKLOAD: selectors.workload_bid_list,
}


@portal_view
def bid_list(request):
    """Every bid of the acting organisation, newest first, per type; filter by status and day."""
    actor = request.actor
    status = request.GET.get("status", "")
    day = request.GET.get("day", "")

    def filtered(qs):
        if status in BidStatus.values:
            qs = qs.filter(status=status)
        if (picked := calendar.parse_day(day)) is None:
            return qs
        start = calendar.slot_start(picked, 1)
        return qs.filter(start__lt=start + 48 * calendar.INTERVAL, end__gt=start)

    groups = []
    for bid_type in BidType.values:
        # One page per type, each with its own page number in the query string, so paging
        # through workloads keeps the offers where they were.
        paginator = Paginator(
            filtered(LISTS[bid_type](actor=actor)).order_by("-start", "-pk"), PAGE
        )
        key = f"{bid_type}_page"
        page = paginator.get_page(request.GET.get(key))
        links = {}
        for name, has, number in (
            ("previous", page.has_previous(), page.number - 1),
            ("next", page.has_next(), page.number + 1),
        ):
            if has:
                query = request.GET.copy()
                query[key] = str(number)
                links[name] = f"?{query.urlencode()}#{bid_type}"
        groups.append((bid_type, BidType(bid_type).label, page, links))
    return render(
        request,
        "market/bids.html",
        {
            "groups": groups,
            "statuses": BidStatus.choices,
            "status": status,
            "day": day,
        },
    )


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
        {
            "bid": bid,
            "bid_type": bid_type,
            "revisions": revisions,
            "frozen": bid.frozen_reason(cleared_through=selectors.cleared_through()),
        },
    )
