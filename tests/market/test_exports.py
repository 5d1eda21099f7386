"""CSV exports of the market's pages: results, allocations, orders, awards (and the runs
page of the exchange). Each holds the page's rows for the actor and its filter, no more."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models import ClearingRun
from market.models.clearing import Allocation, EnergyAward, EnergyPrice
from market.models.dispatch import DispatchOrder
from tests.conftest import client_for
from tests.cycle.conftest import gate, market  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db
DAY = "2030-04-01"  # the cycle market's JST day (K0 is 12:00 JST)
OTHER_DAY = "2030-04-02"


@pytest.fixture(autouse=True)
def _english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def cleared(market):  # noqa: F811 (the imported fixture)
    for i in range(2):
        run_clear_interval(interval_start=market.k(i), now=gate(market.k(i)))
    return market


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def get_csv(who, url: str, lang: str = "en", **query) -> tuple[list[str], list[dict[str, str]]]:
    rows = rows_of(client_for(who).get(url, query, HTTP_ACCEPT_LANGUAGE=lang))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, r, strict=True)) for r in body]


def jst(instant) -> str:
    return calendar.to_jst(instant).isoformat()


def test_results_export_is_the_public_table_of_the_day(cleared):
    header, rows = get_csv(cleared.alice, "/market/results/export.csv", day=DAY)
    assert header[:5] == [
        "Slot",
        "Interval start (JST)",
        "Grid area",
        "Area name",
        "Energy price (JPY/kWh)",
    ]
    prices = EnergyPrice.objects.filter(run__status="completed").select_related("area")
    assert len(rows) == prices.count() > 0
    for p in prices:
        row = next(
            r
            for r in rows
            if r["Grid area"] == p.area_id and r["Interval start (JST)"] == jst(p.interval_start)
        )
        assert row["Energy price (JPY/kWh)"] == format(p.jpy_per_kwh, "f")
        assert row["Slot"] == str(calendar.slot_of(p.interval_start)[1])
    # CU cleared per area: the sum of that area's allocations, and CU-hours are half of it.
    k0 = cleared.k(0)
    kyushu = next(
        r for r in rows if r["Grid area"] == "kyushu" and r["Interval start (JST)"] == jst(k0)
    )
    cu = sum(a.cu for a in Allocation.objects.filter(interval_start=k0, site__area="kyushu"))
    assert float(kyushu["CU cleared"]) == float(cu) > 0
    assert float(kyushu["CU-hours cleared"]) == float(cu) / 2
    # Aggregates only: no organisation, site or workload appears.
    text = repr(rows)
    for secret in ("alpha", "beta", "delta", "gamma", "wl-"):
        assert secret not in text
    # In Japanese, the header is Japanese (the rows are the same numbers).
    ja_header, ja_rows = get_csv(cleared.alice, "/market/results/export.csv", lang="ja", day=DAY)
    assert ja_header[0] == "コマ" and len(ja_rows) == len(rows)
    # The page's filter: another day has no cleared interval.
    _header, none = get_csv(cleared.alice, "/market/results/export.csv", day=OTHER_DAY)
    assert none == []


def test_results_page_links_the_export_of_its_day_and_draws_two_charts(cleared):
    html = (
        client_for(cleared.alice)
        .get("/market/results/", {"day": DAY}, HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert f'href="/market/results/export.csv?day={DAY}"' in html
    assert f'href="/market/results/allocations/export.csv?day={DAY}"' in html
    assert 'id="chart-results-price"' in html and 'id="chart-results-volume"' in html
    assert html.count('role="img"') == 2
    # The volume chart stacks only the areas where CU cleared, in CU-hours (CU × 0.5 h).
    volume = json.loads(
        re.search(r'id="chart-results-volume-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    )
    k0 = cleared.k(0)
    by_area = {}
    for a in Allocation.objects.filter(is_current=True, interval_start=k0).select_related("site"):
        by_area[a.site.area.name_en] = by_area.get(a.site.area.name_en, 0) + a.cu
    assert {s["name"] for s in volume["series"]} == set(by_area)
    slot = calendar.slot_of(k0)[1] - 1
    for s in volume["series"]:
        assert s["unit"] == "CU-h" and s["data"][slot] == float(by_area[s["name"]]) / 2
    assert "<table" in html  # the table stays beside the charts


def _allocation_keys(rows) -> set[tuple[str, str, str]]:
    return {(r["Interval start (JST)"], r["Workload"], r["Site"]) for r in rows}


def _expected(where) -> set[tuple[str, str, str]]:
    return {
        (jst(a.interval_start), f"wl-{a.workload_id}", a.site.code)
        for a in Allocation.objects.filter(is_current=True, **where).select_related("site")
    }


def test_allocations_export_shows_each_party_its_own_side_only(cleared):
    _h, alice = get_csv(cleared.alice, "/market/results/allocations/export.csv", day=DAY)
    _h, charlie = get_csv(cleared.charlie, "/market/results/allocations/export.csv", day=DAY)
    _h, dave = get_csv(cleared.dave, "/market/results/allocations/export.csv", day=DAY)
    _h, sue = get_csv(cleared.sue, "/market/results/allocations/export.csv", day=DAY)
    _h, rita = get_csv(cleared.rita, "/market/results/allocations/export.csv", day=DAY)
    # Providers: the workloads at their own sites (hosted); never another provider's site.
    assert _allocation_keys(alice) == _expected({"site__organisation__slug": "alpha"})
    assert {r["Side"] for r in alice} == {"hosted"}
    assert _allocation_keys(charlie) == _expected({"site__organisation__slug": "beta"})
    assert not {r["Provider"] for r in alice} & {"beta"}
    # The owner: its workload wherever it ran (placed); the supplier: nothing.
    assert _allocation_keys(dave) == _expected({}) and {r["Side"] for r in dave} == {"placed"}
    assert sue == []
    # The regulator: all of them.
    assert _allocation_keys(rita) == _expected({})
    assert len(rita) == Allocation.objects.filter(is_current=True).count() > 0
    # Prices and values as stored, plain decimals.
    a = Allocation.objects.filter(is_current=True, site__organisation__slug="beta").first()
    row = next(r for r in charlie if r["Interval start (JST)"] == jst(a.interval_start))
    assert row["Compute price (JPY/CU-h)"] == format(a.compute_jpy_per_cu_h, "f")
    assert row["Compute value (JPY)"] == format(a.compute_value, "f")
    # The day filter.
    _h, other = get_csv(cleared.rita, "/market/results/allocations/export.csv", day=OTHER_DAY)
    assert other == []


def test_orders_export_holds_ones_own_orders_one_row_per_line(cleared):
    header, alice = get_csv(cleared.alice, "/market/orders/export.csv")
    assert header[:4] == ["Order", "Organisation", "Kind", "Interval start (JST)"]
    own = DispatchOrder.objects.filter(organisation__slug="alpha")
    assert {r["Order"] for r in alice} == {o.public_id for o in own} != set()
    assert {r["Organisation"] for r in alice} == {"alpha"}
    assert len(alice) == sum(max(1, len(o.lines)) for o in own)
    _h, sue = get_csv(cleared.sue, "/market/orders/export.csv")
    assert {r["Organisation"] for r in sue} == {"gamma"}
    order = DispatchOrder.objects.filter(organisation__slug="gamma").first()
    line = order.lines[0]
    row = next(r for r in sue if r["Order"] == order.public_id)
    assert row["Offer"] == line["offer"] and float(row["kWh"]) == line["kwh"]
    assert float(row["Energy price (JPY/kWh)"]) == line["jpy_per_kwh"]
    _h, rita = get_csv(cleared.rita, "/market/orders/export.csv")
    assert {r["Order"] for r in rita} == {o.public_id for o in DispatchOrder.objects.all()}


def test_orders_export_keeps_the_pages_limit(cleared, monkeypatch):
    from market import portal_exports

    monkeypatch.setattr(portal_exports, "ORDERS_SHOWN", 1)
    _h, rows = get_csv(cleared.rita, "/market/orders/export.csv")
    newest = DispatchOrder.objects.order_by("-interval_start", "kind", "-version").first()
    assert {r["Order"] for r in rows} == {newest.public_id}


def test_orders_page_links_its_export(cleared):
    html = client_for(cleared.alice).get("/market/orders/").content.decode()
    assert 'href="/market/orders/export.csv"' in html


def test_awards_export_is_the_suppliers_own_day(cleared):
    header, sue = get_csv(cleared.sue, "/market/awards/export.csv", day=DAY)
    assert header[-3:] == ["kWh", "Price (JPY/kWh)", "Award value (JPY)"]
    awards = EnergyAward.objects.filter(is_current=True, offer__organisation__slug="gamma")
    assert len(sue) == awards.count() > 0
    a = awards.order_by("interval_start").first()
    row = sue[0]
    assert row["Interval start (JST)"] == jst(a.interval_start)
    assert row["kWh"] == format(a.kwh, "f")
    assert row["Award value (JPY)"] == format(a.kwh * a.jpy_per_kwh, "f")
    assert {r["Organisation"] for r in sue} == {"gamma"}
    # Without ?day= the export opens on the last day with awards, as the page does.
    _h, latest = get_csv(cleared.sue, "/market/awards/export.csv")
    assert latest == sue
    # Others' awards never appear; the regulator sees all; the day filter applies.
    _h, alice = get_csv(cleared.alice, "/market/awards/export.csv", day=DAY)
    assert alice == []
    _h, rita = get_csv(cleared.rita, "/market/awards/export.csv", day=DAY)
    assert len(rita) == EnergyAward.objects.filter(is_current=True).count()
    _h, other = get_csv(cleared.sue, "/market/awards/export.csv", day=OTHER_DAY)
    assert other == []
    html = client_for(cleared.sue).get("/market/awards/", {"day": DAY}).content.decode()
    assert f'href="/market/awards/export.csv?day={DAY}"' in html


def test_runs_export_matches_the_runs_page(cleared):
    header, rows = get_csv(cleared.alice, "/market/runs/export.csv")
    assert header[0] == "Run" and "Result sha256" in header
    runs = ClearingRun.objects.order_by("-interval_start")
    assert [r["Run"] for r in rows] == [str(r.pk) for r in runs]
    first = runs.last()
    row = rows[-1]
    assert row["Firm interval start (JST)"] == jst(first.interval_start)
    assert row["Input sha256"] == first.input_sha256 and len(row["Input sha256"]) == 64
    assert row["Welfare (JPY)"] == format(first.welfare_jpy, "f")
    html = client_for(cleared.alice).get("/market/runs/").content.decode()
    assert 'href="/market/runs/export.csv"' in html


def test_exports_need_a_login(cleared):
    from django.test import Client

    for url in (
        "/market/results/export.csv",
        "/market/results/allocations/export.csv",
        "/market/orders/export.csv",
        "/market/awards/export.csv",
        "/market/runs/export.csv",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
