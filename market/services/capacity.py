"""A site is never oversold: its live capacity offers fit its capacity in every interval.

Checked where offers are written (submit, amend, bulk) and where a site's capacity changes,
with the site's row locked first, so that two concurrent writers cannot both pass the
check: the second waits for the first to commit, then sees its offer.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from market import calendar
from market.choices import LIVE_STATUSES
from market.models import CapacityOffer
from market.selectors import cleared_through
from market.validation.fields import show
from operators.models import Site
from operators.services.sites import site_capacity_guard

# CU offered per interval, keyed by the interval's number (seconds since the epoch / 1800):
# a bulk of 10,000 offers adds up half a million values, so no datetime per value.
Totals = dict[int, Decimal]
_SLOT_S = int(calendar.INTERVAL.total_seconds())


def slot(at: datetime) -> int:
    return int(at.timestamp()) // _SLOT_S


@functools.lru_cache(maxsize=4096)
def _cu(value: int | float | str) -> Decimal:
    """Exact CU of a profile value (profiles repeat a few values many times)."""
    return Decimal(str(value))


def sites_lock(site_ids: Iterable[int]) -> dict[int, int]:
    """Lock the sites' rows (ascending id, so writers never deadlock); id → capacity_cu."""
    rows = (
        Site.objects.select_for_update()
        .filter(pk__in=set(site_ids))
        .order_by("pk")
        .values_list("pk", "capacity_cu")
    )
    return dict(rows)


def offered_cu(
    site_id: int, start: datetime, end: datetime, *, exclude_pk: int | None = None
) -> Totals:
    """CU of the site's live offers per interval in [start, end)."""
    rows = CapacityOffer.objects.filter(
        site_id=site_id, status__in=LIVE_STATUSES, start__lt=end, end__gt=start
    )
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    totals: Totals = defaultdict(Decimal)
    for bid_start, cu in rows.values_list("start", "cu"):
        add_profile(totals, bid_start, cu, start=start, end=end)
    return totals


def add_profile(
    totals: Totals, bid_start: datetime, cu: list, *, start=None, end=None
) -> None:  # fmt: skip
    first = slot(bid_start)
    lo = slot(start) if start is not None else first
    hi = slot(end) if end is not None else first + len(cu)
    for i, q in enumerate(cu):
        if lo <= first + i < hi:
            totals[first + i] += _cu(q)


def overflow_message(
    *, site_code: str, capacity_cu: int, offered: Totals, start: datetime, cu: list
) -> str | None:
    """The error for an offer of `cu` from `start` on top of `offered`, or None if it fits."""
    first = slot(start)
    zero = Decimal(0)
    over = [i for i, q in enumerate(cu) if offered.get(first + i, zero) + _cu(q) > capacity_cu]
    if not over:
        return None
    i = over[0]
    already = offered.get(first + i, zero)
    at = start + i * calendar.INTERVAL
    message = _(
        "Interval %(at)s JST: site %(site)s has %(cap)d CU and your live offers there already "
        "total %(offered)s CU, so at most %(spare)s CU is left (this offer asks for %(asked)s)."
    ) % {
        "at": f"{calendar.to_jst(at):%Y-%m-%d %H:%M}",
        "site": site_code,
        "cap": capacity_cu,
        "offered": show(already),
        "spare": show(max(Decimal(capacity_cu) - already, zero)),
        "asked": show(_cu(cu[i])),
    }
    if len(over) > 1:
        message += " " + _("%(n)d more intervals are over too.") % {"n": len(over) - 1}
    return message


def offer_fits(
    *, site_id: int, start: datetime, cu: list, exclude_pk: int | None = None
) -> str | None:
    """Lock the site, then check one offer against its other live offers (None: it fits)."""
    capacity = sites_lock([site_id])[site_id]
    end = start + len(cu) * calendar.INTERVAL
    offered = offered_cu(site_id, start, end, exclude_pk=exclude_pk)
    code = Site.objects.only("code").get(pk=site_id).code
    return overflow_message(
        site_code=code, capacity_cu=capacity, offered=offered, start=start, cu=cu
    )


@site_capacity_guard
def live_offers_fit(site: Site, capacity_cu: int, now: datetime) -> list[str]:
    """A site's capacity may not drop below what its live offers already need."""
    open_from = calendar.floor_interval(now)
    if (reached := cleared_through()) is not None:
        open_from = max(open_from, reached + calendar.INTERVAL)
    offers = list(
        CapacityOffer.objects.filter(
            site_id=site.pk, status__in=LIVE_STATUSES, end__gt=open_from
        ).order_by("id")
    )
    totals: Totals = defaultdict(Decimal)
    for offer in offers:
        add_profile(totals, offer.start, offer.cu, start=open_from)
    over = sorted(n for n, cu in totals.items() if cu > capacity_cu)
    if not over:
        return []
    peak = max(over, key=lambda n: (totals[n], -n))
    in_the_way = [
        o.public_id
        for o in offers
        if any(0 <= n - slot(o.start) < len(o.cu) and _cu(o.cu[n - slot(o.start)]) > 0
               for n in over)
    ]  # fmt: skip
    peak_at = datetime.fromtimestamp(peak * _SLOT_S, tz=UTC)
    return [
        _(
            "Capacity cannot drop to %(new)d CU: live offers need up to %(peak)s CU (at %(at)s "
            "JST, %(n)d intervals over in all). Offers in the way: %(offers)s. Amend or cancel "
            "them first."
        )
        % {
            "new": capacity_cu,
            "peak": show(totals[peak]),
            "at": f"{calendar.to_jst(peak_at):%Y-%m-%d %H:%M}",
            "n": len(over),
            "offers": ", ".join(in_the_way),
        }
    ]
