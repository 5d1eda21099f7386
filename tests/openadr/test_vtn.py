"""The OpenADR 3.1 VTN in-process: scopes, what each organisation sees, reports that
acknowledge orders, subscriptions verified by the echo challenge; every answer checked
against the OpenADR 3.1.1 OpenAPI document."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from aggregator.exchange.cycle import run_clear_interval
from aggregator.openadr.actors import actor_for_client
from aggregator.openadr.choices import ACK_PAYLOAD
from aggregator.openadr.models import Notification
from aggregator.openadr.services.subscriptions import notifications_push_due
from aggregator.platform.errors import InvalidInput
from aggregator.platform.models import AuditEvent
from market.models.dispatch import AckState, DispatchOrder
from tests.openadr.conftest import Vtn, gate

pytestmark = pytest.mark.django_db


def _ack(event_id: str, *values) -> dict:
    return {
        "eventID": event_id,
        "clientName": "ven-1",
        "resources": [
            {"resourceName": "beta-kyu-1", "intervals": [{"id": 0, "payloads": [{"type": ACK_PAYLOAD, "values": list(values)}]}]}
        ],
    }  # fmt: skip


def test_auth_discovery_and_token(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    server = vtn.call("GET", "/openadr3/auth/server")
    assert server["tokenURL"] == "http://testserver/openadr3/auth/token"
    token = vtn.fetch_token()
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) >= {"read_targets", "write_reports", "write_subscriptions"}
    assert "write_events" not in token["scope"]


def test_a_wrong_secret_and_a_scope_not_granted_get_no_token(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.secret = "wrong"
    assert vtn.fetch_token()["error"] == "invalid_client"
    vtn = Vtn(cleared.charlie.organisation)
    assert vtn.fetch_token(scope="write_events")["error"] == "invalid_scope"


def test_the_secret_is_hashed_at_rest(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    stored = vtn.client.application.client_secret
    assert vtn.secret not in stored and stored.startswith(("pbkdf2_", "md5$", "argon2"))


def test_without_a_token_everything_but_discovery_is_refused(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    for url in ("/openadr3/programs", "/openadr3/events", "/openadr3/reports", "/openadr3/vens"):
        vtn.call("GET", url, expect=401)


def test_programs_per_area_and_kind(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    first = vtn.call("GET", "/openadr3/programs")
    rest = vtn.call("GET", "/openadr3/programs?skip=50")
    ids = {p["id"] for p in first + rest}
    assert len(ids) == 9 * 4
    assert {"dispatch-hosting-kyushu", "dispatch-delivery-kyushu", "prices-tokyo"} <= ids
    one = vtn.call("GET", "/openadr3/programs/dispatch-hosting-kyushu")
    assert one["payloadDescriptors"][0]["units"] == "CU"
    vtn.call("GET", "/openadr3/programs/dispatch-hosting-mars", expect=404)
    vtn.call("POST", "/openadr3/programs", {"programName": "x"}, expect=403)


def test_events_are_ones_own_orders_and_the_published_prices(cleared):
    charlie = Vtn(cleared.charlie.organisation)
    charlie.fetch_token()
    events = charlie.call("GET", "/openadr3/events")
    orders = DispatchOrder.objects.filter(organisation=cleared.charlie.organisation)
    assert orders.exists()
    order_events = [e for e in events if e["id"].startswith("ord-")]
    assert {e["id"] for e in order_events} == {o.public_id for o in orders}
    hosting = order_events[0]
    order = orders.get(pk=int(hosting["id"].split("-")[1]))
    assert hosting["intervalPeriod"] == {"start": "2030-04-01T03:00:00Z", "duration": "PT30M"}
    assert hosting["targets"] == ["site:beta-kyu-1", "area:kyushu"]
    setpoint = hosting["intervals"][0]["payloads"][0]
    assert setpoint == {"type": "DISPATCH_SETPOINT", "values": [float(order.total_cu)]}
    prices = [e for e in events if e["id"].startswith("prc-")]
    assert prices and all(e["programID"].startswith("prices-") for e in prices)
    # Alpha's orders are not charlie's: not listed, and 404 by id.
    alpha_orders = DispatchOrder.objects.exclude(organisation=cleared.charlie.organisation)
    for other in alpha_orders:
        charlie.call("GET", f"/openadr3/events/{other.public_id}", expect=404)
    by_program = charlie.call("GET", "/openadr3/events?programID=dispatch-hosting-kyushu")
    assert [e["id"] for e in by_program] == [hosting["id"]]


def test_sealed_bids_never_leak_before_clearing(market):
    vtn = Vtn(market.charlie.organisation)
    vtn.fetch_token()
    assert vtn.call("GET", "/openadr3/events") == []  # nothing cleared: no price, no order
    body = str(vtn.call("GET", "/openadr3/programs")) + str(
        vtn.call("GET", "/openadr3/programs?skip=50")
    )
    assert "150" not in body and "180" not in body  # the sealed offers' prices


def test_a_report_acknowledges_the_order_through_the_market_service(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    order = DispatchOrder.objects.filter(organisation=cleared.charlie.organisation).first()
    report = vtn.call("POST", "/openadr3/reports", _ack(order.public_id, "ACCEPT"), expect=201)
    assert report["clientID"] == vtn.client_id and report["eventID"] == order.public_id
    order.refresh_from_db()
    assert order.ack_state == AckState.ACCEPTED
    assert order.acked_by == f"openadr:{vtn.client_id}"
    assert AuditEvent.objects.filter(code="market.order.accepted").exists()
    assert vtn.call("GET", "/openadr3/reports") == [report]
    vtn.call(
        "PUT", f"/openadr3/reports/{report['id']}", _ack(order.public_id, "ACCEPT"), expect=409
    )
    vtn.call("DELETE", f"/openadr3/reports/{report['id']}", expect=403)
    # Changing one's mind is refused as the REST API refuses it.
    vtn.call("POST", "/openadr3/reports", _ack(order.public_id, "REJECT", "outage"), expect=409)


def test_reports_on_others_orders_or_without_acknowledgement_are_refused(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    other = DispatchOrder.objects.exclude(organisation=cleared.charlie.organisation).first()
    vtn.call("POST", "/openadr3/reports", _ack(other.public_id, "ACCEPT"), expect=400)
    own = DispatchOrder.objects.filter(organisation=cleared.charlie.organisation).first()
    vtn.call("POST", "/openadr3/reports", _ack(own.public_id, "MAYBE"), expect=400)
    vtn.call("POST", "/openadr3/reports", _ack(own.public_id, "REJECT"), expect=400)  # no reason
    vtn.call("POST", "/openadr3/reports", {"eventID": own.public_id}, expect=400)


def test_read_only_and_regulator_clients_cannot_report(cleared):
    reader = Vtn(cleared.charlie.organisation, read_only=True)
    token = reader.fetch_token()
    assert "write_reports" not in token["scope"]
    own = DispatchOrder.objects.filter(organisation=cleared.charlie.organisation).first()
    reader.call("POST", "/openadr3/reports", _ack(own.public_id, "ACCEPT"), expect=403)
    regulator = Vtn(cleared.rita.organisation)
    assert "write_reports" not in regulator.fetch_token()["scope"]


def test_vens_and_resources_are_the_clients_own(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    ven = vtn.call(
        "POST",
        "/openadr3/vens",
        {"objectType": "VEN_VEN_REQUEST", "venName": "beta-ven"},
        expect=201,
    )
    resource = vtn.call(
        "POST", "/openadr3/resources",
        {"objectType": "VEN_RESOURCE_REQUEST", "resourceName": "beta-kyu-1", "venID": ven["id"]},
        expect=201,
    )  # fmt: skip
    assert resource["targets"] == ["site:beta-kyu-1"]
    assert vtn.call("GET", "/openadr3/vens") == [ven]
    assert vtn.call("GET", f"/openadr3/resources?venID={ven['id']}") == [resource]
    vtn.call(
        "POST",
        "/openadr3/vens",
        {"objectType": "VEN_VEN_REQUEST", "venName": "beta-ven"},
        expect=400,
    )
    other = Vtn(cleared.alice.organisation)
    other.fetch_token()
    assert other.call("GET", "/openadr3/vens") == []
    other.call("GET", f"/openadr3/vens/{ven['id']}", expect=404)
    other.call("GET", f"/openadr3/resources/{resource['id']}", expect=404)


def test_a_subscription_is_verified_by_the_echo_challenge_then_notified(market, callback):
    vtn = Vtn(market.charlie.organisation)
    vtn.fetch_token()
    body = {
        "clientName": "ven-1",
        "objectOperations": [{"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": callback.url, "bearerToken": "ven-token-1"}],
    }  # fmt: skip
    sub = vtn.call("POST", "/openadr3/subscriptions", body, expect=201)
    challenge = callback.challenges[0]
    assert challenge["authorization"] == "Bearer ven-token-1"
    k = market.k(0)
    run_clear_interval(interval_start=k, now=gate(k))
    summary = notifications_push_due(now=gate(k))
    assert summary["delivered"] >= 1
    note = callback.notifications[0]
    assert note["headers"]["authorization"] == "Bearer ven-token-1"
    assert note["body"]["operation"] == "CREATE" and note["body"]["objectType"] == "EVENT"
    assert note["body"]["object"]["id"].startswith("ord-")
    # Rerunning sends nothing twice.
    assert notifications_push_due(now=gate(k))["delivered"] == 0
    assert (
        Notification.objects.filter(subscription_id=int(sub["id"][4:])).count()
        == summary["delivered"]
    )


def test_a_callback_that_fails_the_challenge_or_is_private_is_refused(market, callback, settings):
    vtn = Vtn(market.charlie.organisation)
    vtn.fetch_token()
    callback.echo_wrong = True
    body = {"clientName": "ven-1", "objectOperations": [{"objects": ["EVENT"], "operations": ["CREATE"], "callbackUrl": callback.url}]}  # fmt: skip
    vtn.call("POST", "/openadr3/subscriptions", body, expect=400)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    callback.echo_wrong = False
    for url in (callback.url, "https://127.0.0.1/cb", "https://[::ffff:10.0.0.1]/cb"):
        body["objectOperations"][0]["callbackUrl"] = url
        vtn.call("POST", "/openadr3/subscriptions", body, expect=400)


def test_openadr_client_command_prints_the_secret_once(cleared):
    out = io.StringIO()
    call_command("openadr_client", "--org", cleared.charlie.organisation.slug, stdout=out)
    lines = dict(line.split(None, 1) for line in out.getvalue().splitlines()[:3])
    from oauth2_provider.models import Application

    app = Application.objects.get(client_id=lines["client_id"].strip())
    assert app.client_secret != lines["client_secret"].strip()
    assert "write_reports" in lines["scopes"]


def test_notifications_are_as_the_document_says(cleared):
    from aggregator.openadr.payloads import notification, order_event
    from tests.openadr.spec import notification_errors

    order = DispatchOrder.objects.first()
    assert notification_errors(notification("CREATE", order_event(order))) == []
    assert notification_errors({"objectType": "EVENT", "operation": "MAYBE", "object": {}}) != []


def _usage(event_id: str, resource: str, payload_type: str, value) -> dict:
    return {
        "eventID": event_id,
        "clientName": "ven-1",
        "resources": [
            {"resourceName": resource, "intervals": [{"id": 0, "payloads": [{"type": payload_type, "values": [value]}]}]}
        ],
    }  # fmt: skip


def test_meter_data_in_a_report_is_recorded_by_the_settlement_service(cleared):
    from datetime import timedelta

    from aggregator.openadr.services.reports import report_create
    from settlement.models import MeterReading

    vtn = Vtn(cleared.charlie.organisation)
    actor = actor_for_client(vtn.client, {"write_reports", "read_targets"})
    order = DispatchOrder.objects.get(organisation=cleared.charlie.organisation, kind="hosting")
    after = order.interval_start + timedelta(minutes=45)
    kwh = order.total_cu * order.site.kw_per_cu * order.site.pue / 2
    workload = order.lines[0]["workload"]
    report_create(actor=actor, client=vtn.client, data=_usage(order.public_id, "beta-kyu-1", "USAGE", float(kwh)), now=after)  # fmt: skip
    report_create(actor=actor, client=vtn.client, data=_usage(order.public_id, workload, "X_WATTBIT_CU_DELIVERED", float(order.total_cu)), now=after)  # fmt: skip
    readings = MeterReading.objects.filter(organisation=cleared.charlie.organisation)
    assert {r.kind for r in readings} == {"site_energy", "compute"}
    assert all(r.actor_label == f"openadr:{vtn.client_id}" for r in readings)
    # Before the interval ended the settlement service refuses, as it refuses over REST.
    with pytest.raises(InvalidInput):
        report_create(actor=actor, client=vtn.client, data=_usage(order.public_id, "beta-kyu-1", "USAGE", 1.0), now=order.interval_start)  # fmt: skip


def test_a_report_over_http_before_the_interval_ended_is_refused_with_the_reason(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    order = DispatchOrder.objects.filter(organisation=cleared.charlie.organisation).first()
    body = vtn.call("POST", "/openadr3/reports", _usage(order.public_id, "beta-kyu-1", "USAGE", 1.0), expect=400)  # fmt: skip
    assert body["errors"]["readings"][0]["errors"]["interval_start"]  # "has not ended yet"


def test_a_revoked_client_loses_its_tokens_and_its_secret(cleared):
    vtn = Vtn(cleared.charlie.organisation)
    vtn.fetch_token()
    vtn.call("GET", "/openadr3/events")
    call_command("openadr_client", "--revoke", vtn.client_id, stdout=io.StringIO())
    vtn.call("GET", "/openadr3/events", expect=401)
    assert vtn.fetch_token()["error"] == "invalid_client"
    assert AuditEvent.objects.filter(code="openadr.client.revoked").exists()
