"""A site's capacity is never oversold: all its live offers fit, in every interval.

alpha-tky-1 has 64 CU (tests/conftest.py). The concurrency tests need PostgreSQL, where
two transactions really run at once (CI's second pass; SQLite serialises writers).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.platform.errors import Conflict, InvalidInput
from market import calendar
from market.choices import BidType
from market.models import BidRevision, CapacityOffer
from market.services import bid_amend, bid_cancel, bid_submit, bids_submit_bulk
from market.snapshot import snapshot_build
from operators import services as op
from tests.conftest import SITE_DATA, actor_of, client_for
from tests.market.conftest import capacity_payload, open_start

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real concurrent transactions"
)


def _submit(member, **changes):
    return bid_submit(
        actor=actor_of(member), bid_type=BidType.CAPACITY, data=capacity_payload(**changes)
    )


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_offers_at_one_site_together_never_exceed_its_capacity(alice, alpha_site):
    _submit(alice, cu=32)
    _submit(alice, cu=[32, 20, 0, 32])  # now [64, 52, 32, 64] of 64 CU are offered
    before = (CapacityOffer.objects.count(), BidRevision.objects.count())
    with pytest.raises(InvalidInput) as exc:
        _submit(alice, cu=[0, 13, 0, 1])  # one CU too many in interval 1, and in 3
    message = exc.value.errors["cu"][0]
    second = calendar.to_jst(open_start() + calendar.INTERVAL)
    assert message.startswith(f"Interval {second:%Y-%m-%d %H:%M} JST: site alpha-tky-1 has 64 CU")
    assert "already total 52 CU, so at most 12 CU is left (this offer asks for 13)" in message
    assert "1 more intervals are over too" in message
    assert (CapacityOffer.objects.count(), BidRevision.objects.count()) == before
    assert _submit(alice, cu=[0, 12, 0, 0]).cu == [0, 12, 0, 0]  # the spare 12 CU is taken


@pytest.mark.django_db
def test_many_small_bulk_offers_are_refused_once_the_site_is_full(trent, alpha_site):
    items = [{"type": "capacity", **capacity_payload(cu=1, n=2)} for _ in range(66)]
    with pytest.raises(InvalidInput) as exc:
        bids_submit_bulk(actor=actor_of(trent), items=items)
    errors = exc.value.errors["bids"]
    assert [e["index"] for e in errors] == [64, 65]
    assert "at most 0 CU is left" in errors[0]["errors"]["cu"][0]
    assert CapacityOffer.objects.count() == 0
    assert len(bids_submit_bulk(actor=actor_of(trent), items=items[:64])) == 64


@pytest.mark.django_db
def test_an_amendment_is_checked_without_its_own_old_quantity(alice, alpha_site):
    first = _submit(alice, cu=40)
    _submit(alice, cu=20)
    amended = bid_amend(actor=actor_of(alice), bid=first, changes={"cu": 44})
    assert amended.revision == 2 and amended.cu == [44] * 4
    with pytest.raises(InvalidInput) as exc:
        bid_amend(actor=actor_of(alice), bid=first, changes={"cu": 45})
    assert "at most 44 CU is left" in exc.value.errors["cu"][0]
    first.refresh_from_db()
    assert first.revision == 2 and first.cu == [44] * 4


@pytest.mark.django_db
def test_a_cancelled_offer_frees_its_capacity(alice, alpha_site):
    offer = _submit(alice, cu=64)
    with pytest.raises(InvalidInput):
        _submit(alice, cu=1)
    bid_cancel(actor=actor_of(alice), bid=offer)
    assert _submit(alice, cu=64).status == "submitted"


@pytest.mark.django_db
def test_capacity_cannot_drop_below_live_offers_and_the_error_lists_them(alice, alpha_site):
    a = _submit(alice, cu=30)
    b = _submit(alice, cu=[20, 20, 0, 0])
    client = client_for(alice)
    response = client.patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 40}, format="json")
    assert response.status_code == 400
    message = response.json()["errors"]["capacity_cu"][0]
    assert "live offers need up to 50 CU" in message and "2 intervals over" in message
    assert f"{a.public_id}, {b.public_id}" in message
    alpha_site.refresh_from_db()
    assert alpha_site.capacity_cu == 64
    response = client.patch(f"/api/v1/sites/{alpha_site.pk}/", {"capacity_cu": 50}, format="json")
    assert response.status_code == 200 and response.json()["capacity_cu"] == 50


def _concurrently(*calls):
    """Run the calls at the same time on their own connections; outcome per call."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            with translation.override("en"):  # each thread starts in the default, Japanese
                return call()
        except (InvalidInput, Conflict) as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_offers_cannot_both_take_the_last_capacity(
    reference_data, alice, alpha_site
):
    outcomes = _concurrently(lambda: _submit(alice, cu=40), lambda: _submit(alice, cu=40))
    accepted = [o for o in outcomes if isinstance(o, CapacityOffer)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(accepted) == 1 and len(refused) == 1, outcomes
    assert "at most 24 CU is left" in refused[0].errors["cu"][0]
    assert CapacityOffer.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_capacity_cut_and_an_offer_at_once_cannot_both_pass(reference_data, alice, alpha_site):
    _submit(alice, cu=30)
    outcomes = _concurrently(
        lambda: _submit(alice, cu=30),
        lambda: op.site_update(actor=actor_of(alice), site=alpha_site, capacity_cu=40),
    )
    alpha_site.refresh_from_db()
    offered = sum(Decimal(str(o.cu[0])) for o in CapacityOffer.objects.all())
    assert offered <= alpha_site.capacity_cu, outcomes
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 1, outcomes


# --- The property: under random concurrent writes the snapshot never oversells a site ---

N = 4  # intervals each generated offer may touch
op_strategy = st.one_of(
    st.tuples(st.just("submit"), st.integers(0, N - 1), st.integers(1, N), st.integers(0, 40)),
    st.tuples(st.just("amend"), st.integers(0, 2), st.integers(0, 40)),
    st.tuples(st.just("cancel"), st.integers(0, 2)),
)
_site_counter = iter(range(10**6))


def _op(member, site_code: str, seed: list, action: tuple):
    actor = actor_of(member)
    if action[0] == "submit":
        _kind, offset, n, cu = action
        start = open_start() + offset * calendar.INTERVAL
        n = min(n, N - offset)
        data = {"start": calendar.iso_z(start), "intervals": n, "site": site_code,
                "cu": cu, "price": 100}  # fmt: skip
        return bid_submit(actor=actor, bid_type=BidType.CAPACITY, data=data)
    bid = seed[action[1]]
    if action[0] == "amend":
        return bid_amend(actor=actor, bid=bid, changes={"cu": action[2]})
    return bid_cancel(actor=actor, bid=bid)


@postgres_only
@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed_cu=st.lists(st.integers(0, 21), min_size=3, max_size=3),  # 3 × 21 ≤ 64: all fit
    left=st.lists(op_strategy, min_size=1, max_size=4),
    right=st.lists(op_strategy, min_size=1, max_size=4),
)
def test_random_concurrent_writes_never_oversell_a_site(
    reference_data, alice, seed_cu, left, right
):
    code = f"prop-{next(_site_counter)}"
    op.site_register(actor=actor_of(alice), **{**SITE_DATA, "code": code})
    _prices()
    seed = [_op(alice, code, [], ("submit", 0, N, cu)) for cu in seed_cu]

    def lane(actions):
        return lambda: [_outcome(lambda a=a: _op(alice, code, seed, a)) for a in actions]

    _concurrently(lane(left), lane(right))
    snap = snapshot_build(start=open_start(), horizon=N)
    per_interval: dict[int, float] = defaultdict(float)
    for offer in snap.document["capacity_offers"]:
        if offer["site"] == code:
            for t, cu in enumerate(offer["cu"]):
                per_interval[t] += cu
    assert all(cu <= SITE_DATA["capacity_cu"] for cu in per_interval.values()), per_interval


def _prices() -> None:
    """A system price for every interval of the snapshot (a snapshot needs one)."""
    from market.services.signals import signal_publish
    from operators.choices import MemberRole
    from operators.models import Organisation
    from tests.conftest import _member, _org

    if Organisation.objects.filter(slug="ops").exists():
        return
    oscar = _member(_org("ops", ["market_operator"]), "oscar", MemberRole.ADMIN)
    signal_publish(
        actor=actor_of(oscar),
        kind="system_price",
        area=None,
        values=[
            {"interval_start": calendar.iso_z(open_start() + i * calendar.INTERVAL), "value": "12"}
            for i in range(N)
        ],
        source="test",
    )


def _outcome(call):
    try:
        return call()
    except (InvalidInput, Conflict) as exc:
        return exc
