"""Each role's daily pages in a real browser: a supplier's awards and their CSV, a provider's
hosted workloads, a regulator's navigation and orders, an owner's statements that reconcile
with its invoice, and the gate-closure countdown that keeps counting and rolls over."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from market.models.clearing import Allocation, EnergyAward
from operators.models import Organisation
from settlement.statements import monthly_documents
from tests.browser.conftest import shot
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_supplier_finds_its_awards_and_downloads_them(settled_market, page_for, live_server):
    award = EnergyAward.objects.get()
    page = page_for("sue", PASSWORD, locale="en-US")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Energy awards").click()
    expect(page.locator("h1")).to_contain_text("Energy awards — 2030-04-01")  # its last day
    row = page.locator("tbody tr", has_text=settled_market.energy_offer.public_id)
    expect(row).to_contain_text(f"{award.kwh:,.1f}")
    expect(row).to_contain_text(f"¥{int((award.kwh * award.jpy_per_kwh).quantize(1)):,}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download awards (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert settled_market.energy_offer.public_id in rows[0].values()
    assert any(v.startswith("2030-04-01T12:00") and v.endswith("+09:00") for v in rows[0].values())


def test_provider_sees_what_it_earns_from_hosting(settled_market, page_for, live_server):
    allocation = Allocation.objects.get(site__code="beta-kyu-1")
    page = page_for("charlie", PASSWORD, locale="en-US")
    page.goto(f"{live_server.url}/market/results/?day=2030-04-01")
    hosted = page.locator("table", has=page.locator("th", has_text="Earned (JPY)"))
    row = hosted.locator("tbody tr", has_text=f"wl-{settled_market.workload.pk}")
    expect(row).to_contain_text(f"{allocation.compute_jpy_per_cu_h:,.2f}")
    expect(row).to_contain_text("delta")  # the owner
    expect(page.locator("h2", has_text="Your workloads")).to_be_visible()


def test_regulator_navigation_and_orders(settled_market, page_for, live_server):
    page = page_for("rita", PASSWORD, locale="ja-JP")
    nav = page.get_by_role("navigation", name="メイン")
    for absent in ("入札", "APIキー", "Webhook"):
        expect(nav.get_by_role("link", name=absent, exact=True)).to_have_count(0)
    page.goto(f"{live_server.url}/market/orders/")
    expect(page.locator("thead")).to_contain_text("組織")
    for slug in ("beta", "delta", "gamma"):
        expect(page.locator("tbody")).to_contain_text(slug)


def test_owner_statement_reconciles_with_the_invoice(settled_market, page_for, live_server):
    Organisation.objects.filter(slug="ops").update(invoice_registration_number="T7000012050002")
    docs = monthly_documents(organisation=Organisation.objects.get(slug="delta"), month="2030-04")
    page = page_for("dave", PASSWORD, locale="en-US")
    page.goto(f"{live_server.url}/settlement/?month=2030-04")
    row = page.locator("tbody tr", has_text="delta")
    cells = row.locator("td.num")
    expect(cells.nth(1)).to_have_text(f"{-docs.invoice_tax.subtotal_jpy:,}")  # charges
    expect(cells.nth(5)).to_have_text(f"{docs.invoice_tax.total_jpy:,}")  # invoice incl. tax
    shot(page, "statements-reconcile")


def test_countdown_counts_with_units_and_rolls_over(alice, page_for, live_server):
    page = page_for("alice", PASSWORD, locale="en-US")
    page.clock.install(time=timezone.now())
    page.reload()
    timer = page.locator("[role=timer]")
    expect(timer).to_have_text(re.compile(r"^\d+ min \d\d s$"))
    gate_text = page.locator("[data-gate-time]").inner_text()
    start_text = page.locator("[data-start-time]").inner_text()
    before = timer.inner_text()
    page.clock.run_for(3000)
    expect(timer).not_to_have_text(before)  # it keeps counting
    left = int(timer.get_attribute("data-countdown"))
    page.clock.run_for((left + 5) * 1000)

    def later(hhmm: str) -> str:
        h, m = map(int, hhmm.split(":"))
        total = (h * 60 + m + 30) % (24 * 60)
        return f"{total // 60:02d}:{total % 60:02d}"

    expect(page.locator("[data-gate-time]")).to_have_text(later(gate_text))
    expect(page.locator("[data-start-time]")).to_have_text(later(start_text))
    expect(timer).to_have_text(re.compile(r"^(29|30) min \d\d s$"))
    page.select_option("#lang-select", "ja")
    expect(page.locator("[role=timer]")).to_have_text(re.compile(r"^\d+分\d\d秒$"))
