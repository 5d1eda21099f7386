"""Bid entry in the portal: form + inline validation, CSV upload with per-row errors, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from market import calendar
from market.models import CapacityOffer, WorkloadBid
from tests.conftest import portal_client
from tests.market.conftest import open_start

pytestmark = pytest.mark.django_db


def _start_local() -> str:
    return calendar.to_jst(open_start()).strftime("%Y-%m-%dT%H:%M")


def _submit_offer(client: Client) -> CapacityOffer:
    """A two-interval 8 CU offer at 100 JPY/CU-h, entered through the portal form."""
    form = {
        "start": _start_local(),
        "intervals": "2",
        "site": "alpha-tky-1",
        "cu": "8",
        "price": "100",
    }
    response = client.post("/market/bids/new/capacity/", form)
    assert response.status_code == 302
    return CapacityOffer.objects.get()


def test_capacity_offer_through_the_form(alice, alpha_site):
    client = portal_client(alice)
    assert "alpha-tky-1" in client.get("/market/bids/new/capacity/").content.decode()
    form = {
        "start": _start_local(),
        "intervals": "4",
        "site": "alpha-tky-1",
        "cu": "32",
        "price": "180\t180\t170\t170",
    }
    response = client.post("/market/bids/new/capacity/", form)
    assert response.status_code == 302
    offer = CapacityOffer.objects.get()
    assert offer.cu == [32, 32, 32, 32] and [float(p) for p in offer.price] == [180, 180, 170, 170]


def test_inline_validation_shows_errors_and_writes_nothing(alice, alpha_site):
    client = portal_client(alice)
    bad = {
        "start": _start_local(),
        "intervals": "4",
        "site": "alpha-tky-1",
        "cu": "32 32 32",
        "price": "180",
    }
    response = client.post("/market/bids/new/capacity/validate/", bad, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="bid-fields"' in body
    assert "Give 4 values, one per interval (got 3)." in body
    assert CapacityOffer.objects.count() == 0
    fixed = {**bad, "cu": "32 32 32 32"}
    ok = client.post(
        "/market/bids/new/capacity/validate/", fixed, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "the market would accept this bid" in ok and "Per-interval preview" in ok
    assert CapacityOffer.objects.count() == 0


def test_form_refuses_an_interval_behind_gate_closure(alice, alpha_site):
    client = portal_client(alice)
    past = calendar.to_jst(calendar.floor_interval(open_start()) - timedelta(hours=6)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    response = client.post(
        "/market/bids/new/capacity/",
        {"start": past, "intervals": "2", "site": "alpha-tky-1", "cu": "8", "price": "100"},
    )
    assert response.status_code == 200 and "gate closure" in response.content.decode()
    assert CapacityOffer.objects.count() == 0


def test_cancel_before_gate_closure(alice, alpha_site):
    client = portal_client(alice)
    offer = _submit_offer(client)
    assert "Cancel this bid" in client.get(f"/market/bids/capacity/{offer.pk}/").content.decode()
    client.post(f"/market/bids/capacity/{offer.pk}/cancel/")
    offer.refresh_from_db()
    assert offer.status == "cancelled"


def _csv(rows: list[str]) -> SimpleUploadedFile:
    header = "type,start,intervals,site,kind,accelerator,limit_price,zone,max_latency_ms,cu,price,demand,residency_tags"
    return SimpleUploadedFile(
        "bids.csv", ("\n".join([header, *rows]) + "\n").encode(), content_type="text/csv"
    )


def test_csv_upload_all_or_nothing_with_row_errors(alice, alpha_site):
    start = calendar.iso_z(open_start())
    client = portal_client(alice)
    good = f"capacity,{start},2,alpha-tky-1,,,,,,16|16,150|150,,"
    bad = f"workload,{start},2,,inference,h100,900,tokyo,20,,,8,jp"
    worse = f"capacity,{start},2,alpha-tky-1,,,,,,16,150|150,,"
    response = client.post("/market/bids/upload/", {"file": _csv([good, bad, worse])})
    body = response.content.decode()
    assert "Nothing was submitted" in body
    assert '<td class="num">4</td>' in body  # the third data row is row 4 of the file
    assert CapacityOffer.objects.count() == 0 and WorkloadBid.objects.count() == 0
    ok = client.post("/market/bids/upload/", {"file": _csv([good, good.replace("16|16", "8|8")])})
    assert ok.status_code == 302 and CapacityOffer.objects.count() == 2


def test_csv_upload_refuses_a_malformed_file(alice, alpha_site):
    client = portal_client(alice)
    wrong = SimpleUploadedFile("bids.csv", b"kind,start\nx,y\n", content_type="text/csv")
    body = client.post("/market/bids/upload/", {"file": wrong}).content.decode()
    assert "header with a &#x27;type&#x27; column" in body
    sjis = SimpleUploadedFile("bids.csv", "type,開始\n".encode("cp932"), content_type="text/csv")
    assert "UTF-8" in client.post("/market/bids/upload/", {"file": sjis}).content.decode()
    assert CapacityOffer.objects.count() == 0


def test_bid_list_filters(alice, alpha_site):
    client = portal_client(alice)
    offer = _submit_offer(client)
    assert offer.public_id in client.get("/market/bids/?status=submitted").content.decode()
    assert offer.public_id not in client.get("/market/bids/?status=cancelled").content.decode()


def test_amend_through_the_form_keeps_the_earlier_revision(alice, alpha_site):
    client = portal_client(alice)
    offer = _submit_offer(client)
    page = client.get(f"/market/bids/capacity/{offer.pk}/amend/").content.decode()
    assert "Amend bid" in page and "100.0000\n100.0000" in page  # the current revision
    form = {
        "start": _start_local(),
        "intervals": "2",
        "site": "alpha-tky-1",
        "cu": "8\n16",
        "price": "100",
    }
    response = client.post(f"/market/bids/capacity/{offer.pk}/amend/", form)
    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.revision == 2 and offer.status == "amended" and offer.cu == [8, 16]
    detail = client.get(f"/market/bids/capacity/{offer.pk}/").content.decode()
    assert detail.count('<td class="num">') >= 2  # both revisions listed
    bad = client.post(f"/market/bids/capacity/{offer.pk}/amend/", {**form, "cu": "-1"})
    assert bad.status_code == 200 and "negative" in bad.content.decode()
    offer.refresh_from_db()
    assert offer.revision == 2


def test_amend_of_another_organisations_bid_is_not_found(alice, alpha_site, charlie):
    client = portal_client(alice)
    offer = _submit_offer(client)
    assert portal_client(charlie).get(f"/market/bids/capacity/{offer.pk}/amend/").status_code == 404


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        (None, {"capacity", "inference", "batch"}),  # alpha: provider and owner
        (["power_supplier"], {"energy"}),
        (["workload_owner"], {"inference", "batch"}),
    ],
)
def test_the_csv_template_uploads_as_it_is(alice, alpha_site, roles, expected):
    """The template's example rows are the organisation's own kinds of bid, at its site and
    an open interval: uploaded unchanged, every row is accepted."""
    from market.models import EnergyOffer
    from tests.conftest import _member, _org

    member = alice
    if roles is not None:
        member = _member(_org("-".join(roles).replace("_", "-"), roles), "erin", "trader")
    client = portal_client(member)
    template = client.get("/market/bids/upload/template.csv")
    assert template.status_code == 200
    text = template.content.decode()
    header = text.splitlines()[0].split(",")
    assert {"home_site", "no_migration"} <= set(header)
    response = client.post(
        "/market/bids/upload/",
        {"file": SimpleUploadedFile("t.csv", template.content, content_type="text/csv")},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    made = {"capacity"} if CapacityOffer.objects.exists() else set()
    made |= {"energy"} if EnergyOffer.objects.exists() else set()
    made |= set(WorkloadBid.objects.values_list("kind", flat=True))
    assert made == expected
    if "batch" in expected:
        batch = WorkloadBid.objects.get(kind="batch")
        assert batch.home_site.code == "alpha-tky-1" and batch.no_migration is False


def test_workload_form_shows_the_chosen_kinds_fields(alice, alpha_site):
    client = portal_client(alice)
    blank = client.get("/market/bids/new/workload/").content.decode()
    # Nothing chosen yet: both groups, neither hidden; home site and no-migration offered.
    assert 'data-kind="inference">' in blank and 'data-kind="batch">' in blank
    assert 'name="home_site"' in blank and 'name="no_migration"' in blank
    assert '<option value="alpha-tky-1">' in blank
    form = {"start": _start_local(), "intervals": "2", "kind": "batch", "accelerator": "h100",
            "limit_price": "500"}  # fmt: skip
    checked = client.post("/market/bids/new/workload/validate/", form).content.decode()
    assert 'data-kind="inference" hidden disabled' in checked
    assert 'data-kind="batch">' in checked
    form.update(remaining_cu_intervals="8", max_cu="4", home_site="alpha-tky-1",
                no_migration="on")  # fmt: skip
    assert client.post("/market/bids/new/workload/", form).status_code == 302
    bid = WorkloadBid.objects.get()
    assert bid.home_site.code == "alpha-tky-1" and bid.no_migration is True


def test_bid_lists_page_with_a_total_count_and_keep_filters(alice, alpha_site):
    from market.services import bids_submit_bulk
    from tests.conftest import actor_of

    start = open_start()
    items = [
        {"type": "capacity", "start": calendar.iso_z(start + i * calendar.INTERVAL),
         "intervals": 1, "site": "alpha-tky-1", "cu": [1], "price": [100]}
        for i in range(55)
    ]  # fmt: skip
    offers = bids_submit_bulk(actor=actor_of(alice), items=items)
    client = portal_client(alice)
    first = client.get("/market/bids/?status=submitted").content.decode()
    assert "(55 bids)" in first and "1–50 of 55" in first
    newest, oldest = offers[-1].public_id, offers[0].public_id
    assert f">{newest}<" in first and f">{oldest}<" not in first
    assert "?status=submitted&amp;capacity_page=2#capacity" in first
    second = client.get("/market/bids/?status=submitted&capacity_page=2").content.decode()
    assert "51–55 of 55" in second and f">{oldest}<" in second and f">{newest}<" not in second
    assert "(0 bids)" in client.get("/market/bids/?status=cancelled").content.decode()


def test_the_csv_template_starts_after_what_the_market_has_cleared(alice, alpha_site):
    """run_market clears ahead of the clock: the template's interval is still open."""
    from market.models.clearing import ClearingRun

    ahead = open_start(hours_ahead=6)
    ClearingRun.objects.create(
        interval_start=ahead, horizon_intervals=1, gate_closure=ahead, status="completed"
    )
    client = portal_client(alice)
    template = client.get("/market/bids/upload/template.csv").content
    start = template.decode().splitlines()[1].split(",")[1]
    assert calendar.parse_iso(start) == ahead + calendar.INTERVAL
    response = client.post(
        "/market/bids/upload/",
        {"file": SimpleUploadedFile("t.csv", template, content_type="text/csv")},
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
