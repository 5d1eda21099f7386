"""Demo market for `load_demo`: replayed JEPX FY2023 prices, carbon factors, signals and bids.

Call `load_market_demo(stdout)` after the demo participants exist (aggregator/exchange/demo/participants.py). It
covers the 48 intervals from the first interval whose gate is still open, and is safe to
run again: prices already replayed are skipped and bids are created once per horizon.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from market import calendar
from market.choices import BidType, SignalKind
from market.datafiles import DATA_DIR
from market.jepx import read_spot_summary
from market.models import BID_MODELS, MarketParameters
from market.selectors import signal_series
from market.services import bid_submit
from market.services.signals import carbon_factors_import, signal_publish, signals_import_jepx
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole
from operators.models import Membership

DATA = DATA_DIR
JEPX_FY2023 = DATA / "jepx" / "spot_summary_2023.csv"
REPLAY_SOURCE = "jepx-fy2023-replay"
HORIZON = 48

# Site code → (share of capacity offered, compute price JPY/CU-h): cheap, cool north; dear Tokyo.
CAPACITY = {
    "hkd-ishikari-1": (Decimal("0.75"), 140),
    "tky-inzai-1": (Decimal("0.75"), 190),
    "kyu-kitakyushu-1": (Decimal("0.75"), 150),
    "thk-sendai-1": (Decimal("0.75"), 160),
    "hkd-tomakomai-1": (Decimal("0.75"), 90),
    "ksi-osaka-1": (Decimal("0.75"), 175),
}
SITE_OWNERS = {
    "hkd-ishikari-1": "sakura-compute",
    "tky-inzai-1": "sakura-compute",
    "kyu-kitakyushu-1": "sakura-compute",
    "thk-sendai-1": "kita-dc",
    "hkd-tomakomai-1": "kita-dc",
    "ksi-osaka-1": "kansai-hpc",
}
SITE_CU = {"hkd-ishikari-1": 512, "tky-inzai-1": 384, "kyu-kitakyushu-1": 256,
           "thk-sendai-1": 256, "hkd-tomakomai-1": 320, "ksi-osaka-1": 128}  # fmt: skip
MIDDAY_SLOTS = range(21, 31)  # 10:00–15:00 JST: when Kyushu solar is curtailed
BATCH_AREAS = ["hokkaido", "kyushu", "tohoku", "tokyo"]


def _actor(slug: str) -> Actor:
    admin = (
        Membership.objects.select_related("organisation", "user")
        .filter(organisation__slug=slug, role=MemberRole.ADMIN)
        .first()
    )
    if admin is None:
        raise LookupError(f"demo organisation '{slug}' is missing: run load_demo first")
    return Actor(admin.organisation, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=admin.user)


def _fy2023_day(day):
    """The same month and day in JEPX fiscal year 2023 (April 2023 .. March 2024)."""
    year = 2023 if day.month >= 4 else 2024
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February outside a leap year cannot happen (2024 is one); be safe
        return day.replace(year=year, day=28)


def _replay_prices(start: datetime, stdout) -> int:
    """Store FY2023 JEPX prices re-dated onto the demo days (source `jepx-fy2023-replay`)."""
    rows = read_spot_summary(JEPX_FY2023)
    by_day: dict = {}
    for row in rows:
        by_day.setdefault(row.day, []).append(row)
    created = 0
    last = start + (HORIZON + 48) * calendar.INTERVAL
    day = calendar.slot_of(start)[0]
    while calendar.slot_start(day, 1) < last:
        source_day = _fy2023_day(day)
        shift = calendar.slot_start(day, 1) - calendar.slot_start(source_day, 1)
        summary = signals_import_jepx(rows=by_day[source_day], source=REPLAY_SOURCE, shift=shift)
        created += summary.created
        day += timedelta(days=1)
    stdout.write(f"market demo: {created} JEPX FY2023 prices replayed onto the demo days\n")
    return created


def _in_horizon(start: datetime, slots: range) -> list[tuple[datetime, int]]:
    """(first interval, count) of each day's block of `slots` inside the horizon."""
    blocks = []
    for day_offset in range(3):
        day = calendar.slot_of(start)[0] + timedelta(days=day_offset)
        starts = [calendar.slot_start(day, s) for s in slots]
        starts = [s for s in starts if start <= s < start + HORIZON * calendar.INTERVAL]
        if starts:
            blocks.append((starts[0], len(starts)))
    return blocks


def _demand(starts: list[datetime], night: int, day: int) -> list[int]:
    # Users are awake 08:00–23:00 JST; inference demand follows them.
    return [day if 8 <= calendar.to_jst(at).hour < 23 else night for at in starts]


def _bids(start: datetime, now: datetime) -> int:
    iso = calendar.iso_z(start)
    starts = calendar.interval_starts(start, HORIZON)
    created = 0

    def submit(slug: str, bid_type: str, data: dict) -> None:
        nonlocal created
        bid_submit(actor=_actor(slug), bid_type=bid_type, data=data, now=now)
        created += 1

    for code, (share, price) in CAPACITY.items():
        cu = int(SITE_CU[code] * share)
        submit(SITE_OWNERS[code], BidType.CAPACITY,
               {"start": iso, "intervals": HORIZON, "site": code, "cu": cu, "price": price})  # fmt: skip
    # Kyushu curtailment relief at midday: free energy that would otherwise be curtailed.
    for first, count in _in_horizon(start, MIDDAY_SLOTS):
        submit("kyushu-mirai", BidType.ENERGY, {
            "start": calendar.iso_z(first), "intervals": count, "area": "kyushu",
            "kwh": 600, "price": 0, "carbon_g_per_kwh": 20, "curtailment_relief": True})  # fmt: skip
    # Hokkaido wind at 80 % of the (replayed) Hokkaido area price, all day.
    hokkaido = signal_series(kind=SignalKind.AREA_PRICE, area="hokkaido", start=start,
                             end=start + HORIZON * calendar.INTERVAL)  # fmt: skip
    submit("hokkaido-green", BidType.ENERGY, {
        "start": iso, "intervals": HORIZON, "area": "hokkaido", "kwh": 400,
        "price": [str((hokkaido[at] * Decimal("0.8")).quantize(Decimal("0.01"))) for at in starts],
        "carbon_g_per_kwh": 30, "curtailment_relief": False})  # fmt: skip
    # Inference near users: Tokyo and Osaka zones, latency-bound.
    submit("tokyo-ai-labs", BidType.WORKLOAD, {
        "start": iso, "intervals": HORIZON, "kind": "inference", "accelerator": "h100",
        "residency_tags": ["jp"], "limit_price": 900, "zone": "tokyo", "max_latency_ms": 12,
        "demand": _demand(starts, night=40, day=160)})  # fmt: skip
    submit("tokyo-ai-labs", BidType.WORKLOAD, {
        "start": iso, "intervals": HORIZON, "kind": "inference", "accelerator": "h100",
        "residency_tags": ["jp"], "limit_price": 850, "zone": "osaka", "max_latency_ms": 15,
        "demand": _demand(starts, night=16, day=64)})  # fmt: skip
    # Training that may move between power-rich areas and Tokyo.
    submit("tokyo-ai-labs", BidType.WORKLOAD, {
        "start": iso, "intervals": HORIZON, "kind": "batch", "accelerator": "h100",
        "residency_tags": ["jp"], "limit_price": 420, "remaining_cu_intervals": 3000,
        "max_cu": 128, "gang": 8, "migration_cost": 5, "home_site": "tky-inzai-1",
        "allowed_areas": BATCH_AREAS})  # fmt: skip
    submit("sakura-compute", BidType.WORKLOAD, {
        "start": iso, "intervals": HORIZON, "kind": "batch", "accelerator": "h100",
        "limit_price": 380, "remaining_cu_intervals": 1200, "max_cu": 64,
        "migration_cost": 3, "allowed_areas": BATCH_AREAS})  # fmt: skip
    return created


def _signals(start: datetime, now: datetime) -> int:
    """A Kyushu curtailment forecast and an evening Tokyo area cap."""
    created = 0
    for first, count in _in_horizon(start, MIDDAY_SLOTS):
        points = [{"interval_start": at, "value": 350}
                  for at in calendar.interval_starts(first, count)]  # fmt: skip
        created += len(signal_publish(actor=_actor("kyushu-mirai"), kind=SignalKind.CURTAILMENT_MW,
                                      area="kyushu", values=points, now=now))  # fmt: skip
    for first, count in _in_horizon(start, range(35, 41)):  # 17:00–20:00 JST peak
        points = [{"interval_start": at, "value": 200}
                  for at in calendar.interval_starts(first, count)]  # fmt: skip
        created += len(signal_publish(actor=_actor("wattbit-operator"), kind=SignalKind.AREA_CAP_KW,
                                      area="tokyo", values=points, now=now))  # fmt: skip
    return created


@transaction.atomic
def load_market_demo(stdout, *, now: datetime | None = None) -> int:
    """Create the demo market for the next 24 h; returns the number of objects created."""
    now = now or timezone.now()
    lead = MarketParameters.current().gate_closure_lead_minutes
    # A minute's margin so the first interval is still open when the last bid is written.
    start = calendar.first_open_interval(now + timedelta(minutes=1), lead)
    created = 0
    for year in (2023, 2024):
        added, _updated = carbon_factors_import(
            path=DATA / "electricitymaps" / f"yearly_{year}.json"
        )
        created += added
    created += _replay_prices(start, stdout)
    demo_orgs = ["sakura-compute", "kita-dc", "kansai-hpc", "kyushu-mirai", "hokkaido-green",
                 "tokyo-ai-labs"]  # fmt: skip
    # Restarting the demo within a day must not stack a second set of bids on the first.
    if any(
        model.objects.filter(
            organisation__slug__in=demo_orgs, end__gt=start, start__lt=start + timedelta(hours=24)
        ).exists()
        for model in BID_MODELS.values()
    ):
        stdout.write("market demo: bids for this horizon already exist\n")
        return created
    bids = _bids(start, now)
    signals = _signals(start, now)
    stdout.write(
        f"market demo: {bids} bids and {signals} signal values for "
        f"{calendar.to_jst(start):%Y-%m-%d %H:%M} JST + 24 h "
        f"(prices: JEPX FY2023 replayed; carbon: © Electricity Maps, ODbL)\n"
    )
    return created + bids + signals
