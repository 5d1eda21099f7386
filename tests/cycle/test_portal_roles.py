"""Each role's view of a cleared interval: awards for suppliers, both sides of an allocation
for providers and owners, prices on every order, and a regulator's navigation."""

from __future__ import annotations

import re

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models.clearing import Allocation, EnergyAward
from market.models.dispatch import DispatchOrder
from tests.conftest import _member, _org, portal_client
from tests.cycle.conftest import gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(market):
    k = market.k(0)
    return run_clear_interval(interval_start=k, now=gate(k)).run


def _day(market) -> str:
    return calendar.to_jst(market.k(0)).date().isoformat()


def test_supplier_sees_its_awards_with_their_value(market, run):
    award = EnergyAward.objects.get(run=run)
    assert award.kwh > 0
    body = (
        portal_client(market.sue).get("/market/awards/").content.decode()
    )  # opens on the last day
    assert market.energy_offer.public_id in body
    value = award.kwh * award.jpy_per_kwh
    assert f"¥{int(value.quantize(1)):,}" in body
    assert f"{award.kwh:,.1f}" in body
    assert "Energy awards" in body  # in the navigation too
    # Nobody else's page lists the offer; a regulator's lists it with its organisation.
    for other in (market.dave, market.charlie):
        page = portal_client(other).get(f"/market/awards/?day={_day(market)}").content.decode()
        assert market.energy_offer.public_id not in page
    regulator = (
        portal_client(market.rita).get(f"/market/awards/?day={_day(market)}").content.decode()
    )
    assert market.energy_offer.public_id in regulator and "<td>gamma</td>" in regulator


def test_awards_of_another_day_are_not_shown(market, run):
    body = portal_client(market.sue).get("/market/awards/?day=2030-03-01").content.decode()
    assert "No energy awards on this day." in body
    assert market.energy_offer.public_id not in body


def test_provider_sees_hosted_workloads_at_the_compute_price(market, run):
    allocation = Allocation.objects.get(run=run, is_current=True, site__code="beta-kyu-1")
    body = (
        portal_client(market.charlie).get(f"/market/results/?day={_day(market)}").content.decode()
    )
    hosted = body[body.index("Hosted at your sites") :]
    assert f"wl-{market.workload.pk}" in hosted and "delta" in hosted
    assert f"{allocation.compute_jpy_per_cu_h:,.2f}" in hosted
    earned = allocation.cu * allocation.compute_jpy_per_cu_h / 2
    assert f"¥{int(earned.quantize(1)):,}" in hosted
    # The owner's table is its own workloads at the all-in price, and has no hosted table.
    owner = portal_client(market.dave).get(f"/market/results/?day={_day(market)}").content.decode()
    assert "Hosted at your sites" not in owner
    assert f"{allocation.all_in_jpy_per_cu_h:,.2f}" in owner


def test_allocations_split_by_the_side_one_is_on(market, run):
    """The owner's workload is placed for the owner and hosted for the site's provider."""
    allocation = Allocation.objects.get(run=run, is_current=True, site__code="beta-kyu-1")
    from market.clearing_selectors import allocations_by_side
    from operators.actors import actor_for_user

    owner = actor_for_user(market.dave.user)
    sides = allocations_by_side(actor=owner, allocations=[allocation])
    assert sides == {"placed": [allocation], "hosted": []}
    host = actor_for_user(market.charlie.user)
    assert allocations_by_side(actor=host, allocations=[allocation]) == {
        "placed": [],
        "hosted": [allocation],
    }


def test_every_order_shows_its_prices(market, run):
    for membership, kind, unit in (
        (market.charlie, "hosting", "compute price"),
        (market.dave, "placement", "all-in price"),
        (market.sue, "delivery", "energy price"),
    ):
        order = DispatchOrder.objects.filter(organisation=membership.organisation, kind=kind)
        assert order.exists(), kind
        body = portal_client(membership).get("/market/orders/").content.decode()
        assert unit in body, (kind, unit)
        assert re.search(r"@ [\d,]+\.\d\d JPY/(CU-h|kWh)", body)


def test_regulator_sees_organisations_on_orders_and_a_nav_without_trading(market, run):
    body = portal_client(market.rita).get("/market/orders/").content.decode()
    assert '<th scope="col">Organisation</th>' in body
    for slug in DispatchOrder.objects.values_list("organisation__slug", flat=True):
        assert f"<td>{slug}</td>" in body
    nav = body[body.index("<nav") : body.index("</nav>")]
    for hidden in ("Bids", "API keys", "Webhooks", "Sites", "Meter data"):
        assert f">{hidden}<" not in nav
    for shown in ("Results", "Orders", "Reports", "Audit chain", "Energy awards"):
        assert f">{shown}<" in nav
    # A participant's orders page has no organisation column: it sees only its own.
    own = portal_client(market.charlie).get("/market/orders/").content.decode()
    assert '<th scope="col">Organisation</th>' not in own


def test_supplier_dashboard_shows_awards_not_an_empty_allocation_table(market, run):
    from datetime import timedelta
    from unittest import mock

    k = market.k(0)
    with mock.patch("django.utils.timezone.now", return_value=k - timedelta(minutes=20)):
        body = portal_client(market.sue).get("/").content.decode()
    awards = body[body.index("Your energy awards") :]
    assert market.energy_offer.public_id in awards.split("</table>")[0]
    assert "Your workloads" not in body and "Hosted at your sites" not in body


def test_an_organisation_with_a_new_member_and_no_role_table_still_renders(db, reference_data):
    org = _org("epsilon", ["power_supplier"])
    member = _member(org, "erin", "admin")
    assert portal_client(member).get("/market/awards/").status_code == 200


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("dave", ["Bids", "Statements"], ["Sites", "Meter data", "Energy awards"]),
        ("sue", ["Bids", "Meter data", "Energy awards"], ["Sites"]),
        ("charlie", ["Bids", "Sites", "Meter data"], ["Energy awards", "Reports"]),
    ],
)
def test_each_role_navigates_to_its_own_work(market, who, shown, hidden):
    body = portal_client(getattr(market, who)).get("/").content.decode()
    nav = body[body.index("<nav") : body.index("</nav>")]
    for label in shown:
        assert f">{label}<" in nav, label
    for label in hidden:
        assert f">{label}<" not in nav, label
