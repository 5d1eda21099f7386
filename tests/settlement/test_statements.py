"""Statements and invoices: totals equal the ledger, tax once per rate, scoped downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command

from market.models.clearing import ClearingRun
from operators.models import Organisation
from settlement.choices import AccountKind, Component, Stage
from settlement.ledger import Accounts, Line, PlannedEntry, entries_write
from settlement.services.settle import interval_finalise, interval_settle
from settlement.statements import monthly_documents, statement_for, statement_ledger_net
from tests.conftest import client_for
from tests.settlement.conftest import deadline, run_at
from tests.settlement.test_settle import report_all

pytestmark = pytest.mark.django_db
MONTH = "2030-04"  # K0 is 2030-04-01 12:00 JST


@pytest.fixture
def settled(cleared):
    """Interval 0 metered with shortfalls and settled final; interval 1 provisional → final."""
    Organisation.objects.filter(slug="ops").update(invoice_registration_number="T1234567890123")
    k0, k1 = cleared.k(0), cleared.k(1)
    report_all(cleared, k0, provider_factor=Decimal("0.8"))
    interval_settle(run=run_at(k0), now=deadline(k0))
    interval_settle(run=run_at(k1), now=deadline(k1))
    late = deadline(k1) + timedelta(hours=1)
    report_all(cleared, k1, when=late)
    interval_finalise(run=run_at(k1), now=late)
    return cleared


def test_statement_totals_equal_ledger_totals(settled):
    for org in Organisation.objects.all():
        statement = statement_for(organisation=org, month=MONTH)
        assert statement.totals.net_jpy == statement_ledger_net(organisation=org, month=MONTH)
    delta = Organisation.objects.get(slug="delta")
    statement = statement_for(organisation=delta, month=MONTH)
    assert {line.status for line in statement.lines} == {"final", "provisional", "reversal"}
    assert statement.totals.net_jpy < 0  # the owner owes
    assert statement_for(organisation=delta, month="2030-05").lines == ()


def test_invoice_is_for_what_is_owed_with_tax_once_per_rate(settled):
    alpha = Organisation.objects.get(slug="alpha")
    docs = monthly_documents(organisation=alpha, month=MONTH)
    # alpha fell short (deviation, outside consumption tax) and hosted compute (purchase).
    assert docs.invoice is not None and docs.purchase is not None
    assert docs.invoice.issuer.registration_number == "T1234567890123"
    assert {line.tax_rate for line in docs.invoice.lines} == {Decimal(0)}
    assert docs.invoice_tax.tax_jpy == 0
    taxable = sum(line.amount_jpy for line in docs.purchase.lines)
    assert docs.purchase_tax.tax_jpy == taxable * 10 // 100
    delta = Organisation.objects.get(slug="delta")
    docs = monthly_documents(organisation=delta, month=MONTH)
    owed = -statement_for(organisation=delta, month=MONTH).totals.net_jpy
    assert docs.invoice_tax.subtotal_jpy == owed
    assert docs.invoice_tax.tax_jpy == owed * 10 // 100
    assert docs.purchase is None


def _run(at: datetime) -> ClearingRun:
    return ClearingRun.objects.create(
        interval_start=at, horizon_intervals=1, gate_closure=at, status="completed"
    )


def test_invoice_tax_hand_computed(alpha, db):
    """Charges of 105, 105 and 107 JPY on three days and a 999 JPY deviation charge.

    Per line, truncated, the tax would be 10 + 10 + 10 = 30 JPY; once on the rate's total
    it is floor(317 × 0.10) = 31 JPY. The deviation is outside consumption tax: no tax.
    """
    Organisation.objects.create(
        slug="ops", legal_name_ja="運営", legal_name_en="Ops", roles=["market_operator"],
        invoice_registration_number="T9999999999999",
    )  # fmt: skip
    accounts = Accounts()
    receivable = accounts.org(alpha.pk, AccountKind.RECEIVABLE)
    plans = []
    for day, (component, yen) in enumerate(
        [(Component.MARKET_FEE, 105), (Component.MARKET_FEE, 105), (Component.COMPUTE_ENERGY, 107), (Component.DEVIATION, 999)]
    ):  # fmt: skip
        at = datetime(2030, 4, 2 + day, 3, 0, tzinfo=UTC)
        market_kind = (
            AccountKind.DEVIATION if component == Component.DEVIATION else AccountKind.CLEARING
        )
        plans.append(
            PlannedEntry(
                interval_start=at, run_id=_run(at).pk, order_id=None, kind="settlement",
                stage=Stage.FINAL, reason="test",
                lines=[
                    Line(receivable, component, yen, Decimal(1), "CU-h", Decimal(yen)),
                    Line(accounts.market(market_kind), component, -yen, Decimal(1), "CU-h", Decimal(yen)),
                ],
            )
        )  # fmt: skip
    entries_write(plans, now=datetime(2030, 4, 10, tzinfo=UTC))
    docs = monthly_documents(organisation=alpha, month=MONTH)
    summary = docs.invoice_tax
    by_rate = {r.rate: (r.taxable_jpy, r.tax_jpy) for r in summary.per_rate}
    assert by_rate == {Decimal("0.1"): (317, 31), Decimal(0): (999, 0)}
    assert summary.total_jpy == 317 + 31 + 999
    assert [line.transaction_date.day for line in docs.invoice.lines] == [2, 3, 4, 5]


def test_statement_api_is_scoped(settled):
    dave = client_for(settled.dave)
    body = dave.get(f"/api/v1/statements/?month={MONTH}").json()
    assert [s["organisation"] for s in body] == ["delta"]
    assert body[0]["invoice"]["tax_jpy"] == body[0]["invoice"]["subtotal_jpy"] * 10 // 100
    charlie = client_for(settled.charlie)
    for path in (
        f"/api/v1/statements/?month={MONTH}&organisation=delta",
        f"/api/v1/statements/{MONTH}/csv?organisation=delta",
        f"/api/v1/statements/{MONTH}/pdf?organisation=delta",
        f"/api/v1/invoices/{MONTH}/pdf?organisation=delta",
    ):
        assert charlie.get(path).status_code == 404, path
    assert dave.get("/api/v1/statements/?month=2030-13").status_code == 400
    rita = client_for(settled.rita)
    slugs = {s["organisation"] for s in rita.get(f"/api/v1/statements/?month={MONTH}").json()}
    assert {"alpha", "beta", "delta"} <= slugs  # gamma's energy was worth 0 yen: no postings
    assert rita.get(f"/api/v1/statements/{MONTH}/csv").status_code == 400  # name one
    csv = rita.get(f"/api/v1/statements/{MONTH}/csv?organisation=delta")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert b"compute_energy" in csv.content


def test_statement_and_invoice_downloads(settled):
    dave = client_for(settled.dave)
    pdf = dave.get(f"/api/v1/statements/{MONTH}/pdf?language=en")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    invoice = dave.get(f"/api/v1/invoices/{MONTH}/pdf")
    assert invoice.status_code == 200 and invoice.content.startswith(b"%PDF")
    assert dave.get(f"/api/v1/invoices/{MONTH}/pdf?kind=purchase").status_code == 404
    alice = client_for(settled.alice)
    assert alice.get(f"/api/v1/invoices/{MONTH}/pdf?kind=purchase").content.startswith(b"%PDF")


def test_make_statements_writes_files(settled, tmp_path, capsys):
    call_command("make_statements", "--month", MONTH, "-o", str(tmp_path))
    names = sorted(p.name for p in (tmp_path / MONTH).iterdir())
    assert "delta.csv" in names and "delta-invoice.pdf" in names
    assert "alpha-purchase-statement.pdf" in names
    assert "organisation(s)" in capsys.readouterr().out


def test_the_monthly_job_writes_the_previous_months_files_as_make_statements_does(
    settled, tmp_path, settings
):
    from settlement.tasks import write_monthly_statements

    settings.STATEMENTS_DIR = tmp_path / "job"
    # The beat entry fires on the 2nd at 01:30 JST; the job takes "now" to find the month.
    outcome = write_monthly_statements.delay(now_iso="2030-05-01T16:30:00Z").get()
    assert outcome["month"] == MONTH and outcome["organisations"] >= 2
    call_command("make_statements", "--month", MONTH, "-o", str(tmp_path / "command"))
    job = {p.name: p for p in (tmp_path / "job" / MONTH).iterdir()}
    by_hand = {p.name: p for p in (tmp_path / "command" / MONTH).iterdir()}
    assert sorted(job) == sorted(by_hand) and len(job) == outcome["files"]
    # The CSV statements are the same bytes (the PDFs carry their creation time).
    for name in (n for n in job if n.endswith(".csv")):
        assert job[name].read_bytes() == by_hand[name].read_bytes(), name


@pytest.mark.parametrize(
    ("now", "month"),
    [
        ("2030-05-01T16:30:00Z", "2030-04"),
        # 2030-01-01 00:30 JST is still 2029-12-31 in UTC: the JST month decides.
        ("2029-12-31T15:30:00Z", "2029-12"),
        ("2029-12-31T14:30:00Z", "2029-11"),
    ],
)
def test_previous_month_is_counted_in_jst(now, month):
    from market import calendar
    from settlement.services.statement_files import previous_month

    assert previous_month(calendar.parse_iso(now)) == month


def test_portal_statement_page(settled):
    with mock.patch("django.utils.timezone.now", return_value=deadline(settled.k(1))):
        page = client_for(settled.dave).get(f"/settlement/?month={MONTH}")
    assert page.status_code == 200
    assert f"/settlement/statements/{MONTH}/csv" in page.content.decode()


def test_portal_downloads_are_scoped(settled):
    charlie = client_for(settled.charlie)
    assert charlie.get(f"/settlement/statements/{MONTH}/csv?organisation=delta").status_code == 404
    dave = client_for(settled.dave)
    assert dave.get(f"/settlement/statements/{MONTH}/csv").content.startswith(b"\xef\xbb\xbf")
    assert dave.get(f"/settlement/invoices/{MONTH}/pdf").content.startswith(b"%PDF")


def test_portal_meter_upload_shows_row_errors(settled):
    k = settled.k(2)
    from aggregator.exchange.cycle import run_clear_interval
    from tests.settlement.conftest import ended, gate

    run_clear_interval(interval_start=k, now=gate(k))
    body = (
        b"kind,interval_start,site,workload,cu\ncompute,2030-04-01T04:00:00Z,alpha-tky-1,wl-1,-5\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    with mock.patch("django.utils.timezone.now", return_value=ended(k)):
        page = client_for(settled.alice).post(
            "/settlement/meter/",
            {"file": SimpleUploadedFile("m.csv", body, "text/csv")},
            format="multipart",
        )
    assert page.status_code == 200
    content = page.content.decode()
    assert '<td class="num">2</td>' in content, content[content.find("<main") :]


def test_summaries_equal_the_full_documents(settled):
    from settlement.statements import statement_summaries

    orgs = list(Organisation.objects.all())
    summaries = {
        s["organisation"].slug: s for s in statement_summaries(organisations=orgs, month=MONTH)
    }
    assert {"alpha", "beta", "delta"} <= set(summaries)
    for org in orgs:
        docs = monthly_documents(organisation=org, month=MONTH)
        if not docs.statement.lines:
            assert org.slug not in summaries
            continue
        s, totals = summaries[org.slug], docs.statement.totals
        assert (s["lines"], s["net_jpy"]) == (len(docs.statement.lines), totals.net_jpy)
        assert (s["credits_jpy"], s["charges_jpy"]) == (totals.credits_jpy, totals.charges_jpy)
        for mine, full in ((s["invoice"], docs.invoice_tax), (s["purchase"], docs.purchase_tax)):
            assert (mine is None) == (full is None)
            if full is not None:
                assert (mine.subtotal_jpy, mine.tax_jpy, mine.total_jpy) == (
                    full.subtotal_jpy, full.tax_jpy, full.total_jpy,
                )  # fmt: skip


def test_charges_and_credits_are_the_invoice_and_purchase_statement_before_tax(settled):
    """A provisional charge and its reversal cancel on the invoice, so they cancel in the
    totals too; what was provisional and what was reversed are shown apart."""
    checked = 0
    for org in Organisation.objects.all():
        docs = monthly_documents(organisation=org, month=MONTH)
        totals = docs.statement.totals
        invoice = docs.invoice_tax.subtotal_jpy if docs.invoice_tax else 0
        purchase = docs.purchase_tax.subtotal_jpy if docs.purchase_tax else 0
        assert totals.charges_jpy == -invoice, org.slug
        assert totals.credits_jpy == purchase, org.slug
        assert totals.net_jpy == totals.credits_jpy + totals.charges_jpy
        reversed_lines = [line for line in docs.statement.lines if line.status == "reversal"]
        assert totals.reversals_jpy == sum(line.amount_jpy for line in reversed_lines)
        if reversed_lines:
            checked += 1
            # Everything provisional was reversed once meter data came: nothing open.
            assert totals.provisional_jpy == -totals.reversals_jpy != 0
            assert totals.open_provisional_jpy == 0
    assert checked >= 2  # the owner and the providers of interval 1


def test_the_statements_page_shows_the_reconciling_columns(settled):
    delta = Organisation.objects.get(slug="delta")
    docs = monthly_documents(organisation=delta, month=MONTH)
    client = client_for(settled.dave)
    body = client.get(f"/settlement/?month={MONTH}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = body[body.index("<td>delta</td>") :].split("</tr>")[0]
    cells = [c.split("<")[0] for c in row.split('<td class="num">')[1:]]
    # lines, charges, credits, net, still provisional, invoice, purchase statement
    assert cells[1] == f"{-docs.invoice_tax.subtotal_jpy:,}"
    assert cells[2] == "0"
    assert cells[4] == "0"  # nothing still provisional
    assert cells[5] == f"{docs.invoice_tax.total_jpy:,}"
    assert f"{docs.statement.totals.provisional_jpy:,}" in row


def test_invoice_shows_the_fee_tariff_as_its_unit_price(alpha, db):
    """Fees on 16.15 CU-h in two intervals of one day: 32.3 JPY, rounded to 32 in each.
    The day's line is 32.3 CU-h for 64 JPY at the tariff, 2 JPY/CU-h; the amount over the
    quantity would print 1.9814."""
    Organisation.objects.create(
        slug="ops", legal_name_ja="運営", legal_name_en="Ops", roles=["market_operator"],
        invoice_registration_number="T9999999999999",
    )  # fmt: skip
    accounts = Accounts()
    receivable = accounts.org(alpha.pk, AccountKind.RECEIVABLE)
    fee = accounts.market(AccountKind.FEE_REVENUE)
    plans = []
    for minute, cu_h in ((0, Decimal("16.15")), (30, Decimal("16.15"))):
        at = datetime(2030, 4, 2, 3, minute, tzinfo=UTC)
        yen = int((cu_h * 2).quantize(Decimal(1)))  # 32 (half-even)
        plans.append(
            PlannedEntry(
                interval_start=at, run_id=_run(at).pk, order_id=None, kind="settlement",
                stage=Stage.FINAL, reason="test",
                lines=[
                    Line(receivable, Component.MARKET_FEE, yen, cu_h, "CU-h", Decimal(2)),
                    Line(fee, Component.MARKET_FEE, -yen, cu_h, "CU-h", Decimal(2)),
                ],
            )
        )  # fmt: skip
    entries_write(plans, now=datetime(2030, 4, 10, tzinfo=UTC))
    (line,) = monthly_documents(organisation=alpha, month=MONTH).invoice.lines
    assert (line.quantity, line.amount_jpy) == (Decimal("32.3"), 64)
    assert line.unit_price_jpy == Decimal("2.0000")  # not 64 / 32.3 = 1.9814
