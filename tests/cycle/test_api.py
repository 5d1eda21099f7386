"""Orders, acknowledgements, re-dispatch events, public results and replay through REST."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aggregator.exchange.cycle import run_clear_interval
from aggregator.platform.models import AuditEvent
from market import calendar
from market.models.clearing import Allocation, ClearingRun
from market.models.dispatch import DispatchOrder
from tests.conftest import client_for
from tests.cycle.conftest import gate, register_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(market):
    k = market.k(0)
    return run_clear_interval(interval_start=k, now=gate(k)).run


def _order(slug: str, kind: str) -> DispatchOrder:
    return (
        DispatchOrder.objects.get(
            organisation__slug=slug, kind=kind, is_current=True, site__code="beta-kyu-1"
        )
        if kind != "delivery"
        else DispatchOrder.objects.get(organisation__slug=slug, kind=kind, is_current=True)
    )


def test_orders_are_scoped_to_their_organisation(market, run):
    k = calendar.iso_z(market.k(0))
    owner = client_for(market.charlie).get(f"/api/v1/orders?interval={k}").json()["results"]
    assert {(o["organisation"], o["kind"]) for o in owner} == {("beta", "hosting")}
    other = client_for(market.alice).get("/api/v1/orders").json()["results"]
    assert {o["organisation"] for o in other} == {"alpha"}
    beta_order = _order("beta", "hosting")
    assert client_for(market.alice).get(f"/api/v1/orders/{beta_order.pk}/").status_code == 404
    everyone = client_for(market.rita).get("/api/v1/orders").json()["results"]
    assert len(everyone) == 5


def test_acknowledge_accept_and_reject(market, run):
    order = _order("beta", "hosting")
    client = client_for(market.charlie)
    accepted = client.post(f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"})
    assert accepted.status_code == 200 and accepted.json()["ack_state"] == "accepted"
    # The same answer again is harmless; a different one is a conflict.
    assert (
        client.post(f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"}).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "reject", "reason": "x"}
        ).status_code
        == 409
    )
    placement = _order("delta", "placement")
    dave = client_for(market.dave)
    no_reason = dave.post(f"/api/v1/orders/{placement.pk}/acknowledge", {"decision": "reject"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    rejected = dave.post(
        f"/api/v1/orders/{placement.pk}/acknowledge",
        {"decision": "reject", "reason": "cluster maintenance"},
    )
    assert rejected.json()["ack_state"] == "rejected"
    assert (
        AuditEvent.objects.filter(
            code__in=["market.order.accepted", "market.order.rejected"]
        ).count()
        == 2
    )


def test_others_and_regulators_cannot_acknowledge(market, run):
    order = _order("beta", "hosting")
    assert (
        client_for(market.alice)
        .post(f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"})
        .status_code
        == 404
    )
    assert (
        client_for(market.rita)
        .post(f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"})
        .status_code
        == 403
    )
    order.refresh_from_db()
    assert order.ack_state == "pending"


def test_outage_redispatch_amends_only_affected_orders(
    market, run, receiver, django_capture_on_commit_callbacks
):
    register_webhook(market.dave, receiver)
    before = {o.pk: o.idempotency_key for o in DispatchOrder.objects.all()}
    k = market.k(0)
    with (
        mock.patch("django.utils.timezone.now", return_value=gate(k) + timedelta(minutes=10)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(market.charlie).post(
            "/api/v1/events/outage",
            {"site": "beta-kyu-1", "interval": calendar.iso_z(k), "cu_available": 10},
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["elapsed_ms"] < 1000
    assert {
        (c["site"], c["cu_before"], c["cu_after"])
        for c in body["changes"]
        if c["site"] == "beta-kyu-1"
    } == {("beta-kyu-1", "32.0", "10.0")}  # decimal strings, as the whole API writes them
    assert {c["interval_start"] for c in body["changes"]} == {calendar.to_jst(k).isoformat()}
    current = {
        (o.organisation.slug, o.kind, o.site.code if o.site else o.area_id): o
        for o in DispatchOrder.objects.filter(is_current=True)
    }
    # Providers and the owner whose placements moved get version 2; the supplier's delivery
    # changes too (less Kyushu load); nothing else is touched.
    assert current[("beta", "hosting", "beta-kyu-1")].version == 2
    assert current[("beta", "hosting", "beta-kyu-1")].total_cu == 10
    assert current[("delta", "placement", "beta-kyu-1")].version == 2
    assert current[("alpha", "hosting", "alpha-tky-1")].total_cu == 30
    old = DispatchOrder.objects.get(organisation__slug="beta", version=1)
    assert not old.is_current and old.superseded_by.version == 2
    assert set(before) <= set(DispatchOrder.objects.values_list("pk", flat=True))  # old kept
    assert sum(a.cu for a in Allocation.objects.filter(is_current=True)) == 40
    # The amended placement was pushed at once, with a new idempotency key.
    keys = [r["headers"]["Idempotency-Key"] for r in receiver.received]
    assert current[("delta", "placement", "beta-kyu-1")].idempotency_key in keys


def test_outage_refused_for_foreign_site_or_uncleared_interval(market, run):
    k = market.k(0)
    with mock.patch("django.utils.timezone.now", return_value=gate(k)):
        foreign = client_for(market.alice).post(
            "/api/v1/events/outage",
            {"site": "beta-kyu-1", "interval": calendar.iso_z(k), "cu_available": 0},
            format="json",
        )
        assert foreign.status_code == 400
        later = client_for(market.charlie).post(
            "/api/v1/events/outage",
            {"site": "beta-kyu-1", "interval": calendar.iso_z(market.k(2)), "cu_available": 0},
            format="json",
        )
        assert later.status_code == 409
    assert DispatchOrder.objects.filter(version=2).count() == 0


def test_public_results_are_aggregates(market, run):
    k = market.k(0)
    rows = (
        client_for(market.alice)
        .get(f"/api/v1/results?from={calendar.iso_z(k)}&to={calendar.iso_z(market.k(1))}")
        .json()
    )
    by_area = {r["area"]: r for r in rows}
    assert len(rows) == 9
    assert (
        by_area["kyushu"]["cu_cleared"] == "32.000000"
        and float(by_area["kyushu"]["kwh_from_offers"]) > 0
    )
    assert "workload" not in str(rows)


def test_allocations_visible_to_owner_and_host_only(market, run):
    assert len(client_for(market.dave).get("/api/v1/allocations").json()["results"]) == 2
    assert [
        a["site"] for a in client_for(market.charlie).get("/api/v1/allocations").json()["results"]
    ] == ["beta-kyu-1"]
    assert client_for(market.sue).get("/api/v1/allocations").json()["results"] == []
    assert len(client_for(market.sue).get("/api/v1/energy-awards").json()["results"]) == 1


def test_regulator_replays_a_run_and_others_cannot(market, run):
    response = client_for(market.rita).post(f"/api/v1/clearing-runs/{run.pk}/replay")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert (
        client_for(market.alice).post(f"/api/v1/clearing-runs/{run.pk}/replay").status_code == 403
    )
    assert AuditEvent.objects.filter(code="aggregator.replay.checked").count() == 1


def test_snapshot_sealed_until_its_horizon_is_over(market, run):
    url = f"/api/v1/clearing-runs/{run.pk}/snapshot"
    assert client_for(market.alice).get(url).status_code == 403
    assert client_for(market.rita).get(url).status_code == 403
    horizon_end = run.interval_start + run.horizon_intervals * calendar.INTERVAL
    with mock.patch("django.utils.timezone.now", return_value=horizon_end):
        assert client_for(market.rita).get(url).status_code == 200


def test_order_list_query_budget(market, run):
    client = client_for(market.rita)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/api/v1/orders").status_code == 200
    assert len(ctx.captured_queries) <= 12


def test_replay_detects_a_tampered_result(market, run):
    from aggregator.exchange.replay import replay_run

    ClearingRun.objects.filter(pk=run.pk).update(result_sha256="0" * 64)
    run.refresh_from_db()
    verdict = replay_run(run)
    assert not verdict.ok and verdict.first_difference
    assert timezone.now()  # the verdict is audited even when it fails


def test_replay_names_but_does_not_show_a_differing_advisory_row(market, run):
    """Advisory rows come from sealed bids: a replay verdict (shown to regulators and kept
    in the audit chain) says where they differ, never what they hold."""
    import json

    from aggregator.exchange.replay import replay_run

    result = json.loads(run.result_json)
    firm = json.loads(run.snapshot_json)["firm_intervals"]
    row = next(p for p in result["prices"]["compute"] if p["interval"] >= firm)
    row["jpy_per_cu_h"] = 987.6543
    ClearingRun.objects.filter(pk=run.pk).update(
        result_json=json.dumps(result), result_sha256="0" * 64
    )
    run.refresh_from_db()
    verdict = replay_run(run)
    assert not verdict.ok
    assert "prices.compute[" in verdict.first_difference
    assert "values withheld" in verdict.first_difference
    assert "987.6543" not in json.dumps(verdict.as_dict())
    assert "987.6543" not in json.dumps(AuditEvent.objects.order_by("-seq").first().payload)


def test_a_redispatch_replaces_the_runs_uplift_with_its_own(market, run):
    """Settlement pays the engine's firm uplift as it is (engine v5), so after a re-dispatch
    it must be the re-solve's: the run's rows stay, no longer current."""
    import json

    from market.models.clearing import Redispatch, UpliftPayment
    from market.services.redispatch import redispatch_site_outage
    from tests.conftest import actor_of

    stale = UpliftPayment.objects.create(
        run=run, participant=market.tky_offer.public_id,
        organisation=market.tky_offer.organisation, jpy=12,
    )  # fmt: skip
    k = market.k(0)
    record, _orders = redispatch_site_outage(
        actor=actor_of(market.charlie), site=market.kyu_offer.site, interval_start=k,
        cu_available=10, now=gate(k) + timedelta(minutes=10),
    )  # fmt: skip
    stale.refresh_from_db()
    assert not stale.is_current
    current = UpliftPayment.objects.filter(run=run, is_current=True)
    reported = [u for u in json.loads(record.result_json)["uplift"] if u["jpy"] > 0]
    assert sorted((u.participant, float(u.jpy)) for u in current) == sorted(
        (u["participant"], u["jpy"]) for u in reported
    )
    assert all(u.redispatch_id == record.pk for u in current)
    assert Redispatch.objects.filter(run=run).count() == 1
