"""What people do in the portal, in a real browser: log in, bid, clear, acknowledge, replay."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from aggregator.exchange.cycle import run_clear_interval
from market import calendar
from market.models import CapacityOffer
from tests.browser.conftest import shot
from tests.conftest import PASSWORD
from tests.cycle.conftest import gate
from tests.market.conftest import open_start

# serialized_rollback keeps the reference data (areas, zones) that migrations load.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_login_in_japanese_and_english(page_for, alice):
    page = page_for("alice", PASSWORD, locale="ja-JP")
    expect(page.locator("h1")).to_contain_text("ダッシュボード")
    shot(page, "dashboard-ja")
    page.select_option("#lang-select", "en")
    expect(page.locator("h1")).to_contain_text("Dashboard")
    page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/")[2] + "/sites/")
    expect(page.locator("h1")).to_have_text("Sites")  # the choice is remembered
    english = page_for("alice", PASSWORD, locale="en-US")
    expect(english.locator("nav")).to_contain_text("Results")


def test_bid_form_error_then_fix_then_cancel(page_for, alice, alpha_site, live_server):
    page = page_for("alice", PASSWORD, locale="en-US")
    page.goto(f"{live_server.url}/market/bids/new/capacity/")
    start = calendar.to_jst(open_start()).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_start", start)
    page.fill("#id_intervals", "4")
    page.fill("#id_cu", "32\n32\n32")  # three values for four intervals
    page.fill("#id_price", "180")
    page.locator("#id_price").blur()
    # Inline validation (htmx) shows the market's own message before anything is sent.
    expect(page.locator("#bid-fields")).to_contain_text("Give 4 values, one per interval (got 3).")
    shot(page, "bid-form-error")
    assert CapacityOffer.objects.count() == 0
    page.fill("#id_cu", "32\n32\n32\n32")
    page.locator("#id_cu").blur()
    expect(page.locator("#bid-fields")).to_contain_text("the market would accept this bid")
    page.click("text=Submit bid")
    expect(page.locator("h1")).to_contain_text("cap-")
    offer = CapacityOffer.objects.get()
    assert offer.cu == [32, 32, 32, 32]
    page.click("text=Cancel this bid")
    expect(page.locator(".flash")).to_contain_text("cancelled")
    offer.refresh_from_db()
    assert offer.status == "cancelled"


def test_interval_cleared_allocation_seen_and_order_accepted(page_for, market, live_server):
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    owner = page_for("dave", PASSWORD, locale="en-US")
    day = calendar.to_jst(k).date().isoformat()
    owner.goto(f"{live_server.url}/market/results/?day={day}")
    expect(owner.locator("table").nth(1)).to_contain_text(f"wl-{market.workload.pk}")
    shot(owner, "results")
    provider = page_for("charlie", PASSWORD, locale="en-US")
    provider.goto(f"{live_server.url}/market/orders/")
    row = provider.locator("tr", has_text="beta-kyu-1")
    row.get_by_role("button", name="Accept").click()
    expect(provider.locator(".flash")).to_contain_text("acknowledged")
    expect(provider.locator("tr", has_text="beta-kyu-1")).to_contain_text("Accepted")
    shot(provider, "orders")
    regulator = page_for("rita", PASSWORD, locale="en-US")
    regulator.goto(f"{live_server.url}/market/runs/")
    regulator.locator("tr", has_text=str(run.pk)).get_by_role("button", name="Replay").first.click()
    expect(regulator.locator(".flash")).to_contain_text(re.compile("identical result"))
    shot(regulator, "runs-replay")


def test_meter_upload_settlement_invoice_and_report(page_for, market, live_server, tmp_path):
    from datetime import timedelta
    from unittest import mock

    from operators.models import Organisation
    from settlement.models import MeterReading
    from settlement.services.settle import interval_settle

    Organisation.objects.filter(slug="ops").update(invoice_registration_number="T7000012050002")
    k = market.k(0)
    run = run_clear_interval(interval_start=k, now=gate(k)).run
    beta_cu = run.allocations.get(site__code="beta-kyu-1").cu
    # The interval has just ended: meter data is due (the portal reads the wall clock).
    with mock.patch("django.utils.timezone.now", return_value=k + timedelta(minutes=35)):
        provider = page_for("charlie", PASSWORD, locale="en-US")
        provider.goto(f"{live_server.url}/settlement/meter/")
        header = "kind,interval_start,site,workload,offer,cu,kwh"
        good = f"compute,{calendar.iso_z(k)},beta-kyu-1,wl-{market.workload.pk},,{beta_cu},"
        bad = f"compute,{calendar.iso_z(k)},beta-kyu-1,wl-{market.workload.pk},,-3,"
        upload = tmp_path / "meter.csv"
        upload.write_text("\n".join([header, good, bad]) + "\n")
        provider.set_input_files("#id_file", str(upload))
        provider.click("main button[type=submit]")
        expect(provider.locator("section[role=alert]")).to_contain_text("Nothing was written")
        expect(provider.locator("section[role=alert] td").first).to_have_text("3")
        shot(provider, "meter-upload-error")
        assert not MeterReading.objects.exists()
        upload.write_text("\n".join([header, good]) + "\n")
        provider.set_input_files("#id_file", str(upload))
        provider.click("main button[type=submit]")
        expect(provider.locator(".flash")).to_contain_text("1 meter readings recorded")
    assert MeterReading.objects.count() == 1
    interval_settle(run=run, now=k + timedelta(hours=3))
    owner = page_for("dave", PASSWORD, locale="ja-JP")
    month = calendar.to_jst(k).strftime("%Y-%m")
    owner.goto(f"{live_server.url}/settlement/?month={month}")
    with owner.expect_download() as download:
        owner.get_by_role("link", name="請求書 PDF").or_(
            owner.get_by_role("link", name="Invoice PDF")
        ).click()
    pdf = tmp_path / "invoice.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    regulator = page_for("rita", PASSWORD, locale="en-US")
    regulator.goto(f"{live_server.url}/reports/?day={calendar.to_jst(k).date().isoformat()}")
    expect(regulator.locator("main")).to_contain_text("Curtailment")
    chart = regulator.locator("main .chart-canvas[role=img]").first  # the interactive charts
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_attached()  # ECharts drew into it
