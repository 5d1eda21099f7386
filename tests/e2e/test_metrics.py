"""End to end: after a real cycle (real workers, PostgreSQL, Redis), /metrics scraped from a
real gunicorn started with deploy/gunicorn.conf.py (multiprocess mode) shows the domain."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from aggregator.exchange.tasks import clear_interval
from aggregator.platform.queues import CELERY_QUEUES
from aggregator.platform.tasks import issue_audit_checkpoint
from market import calendar
from market.models.dispatch import AckState, DispatchOrder
from tests.conftest import key_client
from tests.e2e.checks import all_delivered, assert_one_completed_run
from tests.e2e.stack import e2e_marks, free_port, process_env, wait_for
from tests.support.prometheus import alert_metric_names, alert_selectors, parse, total, value

pytestmark = e2e_marks()

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-metrics-token-0123456789abcdef"


@pytest.fixture
def gunicorn(redis_server, tmp_path):
    """The web process as the image runs it: deploy/gunicorn.conf.py, two workers."""
    port = free_port()
    multiproc = tmp_path / "prometheus"
    log = tmp_path / "gunicorn.log"
    env = process_env(
        redis_server.url,
        {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "METRICS_TOKEN": TOKEN,
            # Not loopback: the test's requests must carry the token.
            "METRICS_ALLOWED_NETWORKS": "192.0.2.0/24",
        },
    )
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "aggregator.wsgi:application",
             "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200  # noqa: S310
        except OSError:
            return False

    try:
        wait_for(up, timeout=60, what="gunicorn to answer", every=0.2)
        yield base, multiproc, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def scrape(base: str, token: str | None = TOKEN, path: str = "/metrics") -> tuple[int, str]:
    request = urllib.request.Request(f"{base}{path}")  # noqa: S310 — loopback http only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_metrics_after_a_real_cycle(market_factory, workers, redis_server, gunicorn):
    base, multiproc, log = gunicorn
    market = market_factory(horizon=4)
    workers.start(concurrency=2)
    clear_interval.delay(calendar.iso_z(market.interval), calendar.iso_z(market.gate_closure))
    wait_for(all_delivered, timeout=60, what="every order pushed", context=workers.logs)
    run = assert_one_completed_run(market)
    orders = list(DispatchOrder.objects.filter(run=run, is_current=True))
    # The checks operators and beat run, each recording its verdict.
    issue_audit_checkpoint.apply().get()
    call_command("verify_audit_chain")
    call_command("check_ledger")

    # Refused requests get what an unknown path gets (here without collectstatic, whose
    # manifest the error page needs, that is a 500; in the image a 404): never the metrics.
    unknown = scrape(base, path="/no-such-page")[0]
    assert unknown != 200
    assert scrape(base, token=None)[0] == unknown  # loopback is not in the allowed networks
    assert scrape(base, token="not-the-token")[0] == unknown
    status, text = scrape(base)
    assert status == 200
    m = parse(text)

    # The clearing: one run, its solve measured as the worker stored it.
    assert value(m, "wattbit_clearing_runs", status="completed") == 1
    assert value(m, "wattbit_clearing_runs", status="failed") == 0
    assert total(m, "wattbit_clearing_solve_seconds_count") == 1
    solve_sum = total(m, "wattbit_clearing_solve_seconds_sum")
    assert solve_sum > 0
    assert solve_sum == pytest.approx(run.timings["solve_s"])
    assert total(m, "wattbit_clearing_total_seconds_sum") > solve_sum
    assert value(m, "wattbit_clearing_lateness_seconds_count") == 1
    # Triggered at gate closure on the market clock: ready within seconds of it.
    assert 0 < value(m, "wattbit_clearing_last_lateness_seconds") < 60
    assert value(m, "wattbit_clearing_overdue_seconds") >= 0
    assert value(m, "wattbit_clearing_fallback_runs_total") == 0

    # Every push delivered, none waiting or given up; the orders await acknowledgement.
    for phase in ("pending", "retrying", "sending"):
        assert value(m, "wattbit_dispatch_deliveries", phase=phase) == 0
    assert value(m, "wattbit_dispatch_deliveries_due") == 0
    assert value(m, "wattbit_dispatch_deliveries_failed_total") == 0
    assert value(m, "wattbit_dispatch_orders_awaiting_ack") == len(orders) > 0
    assert value(m, "wattbit_dispatch_orders_unacknowledged_at_start_total") == 0

    # The interval has not even started: nothing is due for settlement.
    assert value(m, "wattbit_settlement_lag_seconds") == 0
    for check in ("audit_checkpoint", "audit_chain", "ledger"):
        assert value(m, "wattbit_integrity_check_ok", check=check) == 1
        assert (
            value(m, "wattbit_integrity_check_timestamp_seconds", check=check) > time.time() - 300
        )

    # The real broker's queues, all drained.
    for queue in CELERY_QUEUES:
        assert value(m, "wattbit_celery_queue_length", queue=queue) == 0
    for collector in ("clearing", "dispatch", "settlement", "integrity", "queues"):
        assert value(m, "wattbit_collector_up", collector=collector) == 1
    # Every metric and label value the alert rules read is there.
    assert not sorted(name for name in alert_metric_names() if name not in m)
    for name, labels in alert_selectors():
        assert any(all(have.get(k) == v for k, v in labels) for have, _v in m[name]), name

    # One participant accepts its orders over REST; the gauge follows.
    slug = orders[0].organisation.slug
    client, _key = key_client(market.members[slug])
    mine = [o for o in orders if o.organisation.slug == slug]
    for order in mine:
        ack = client.post(
            f"/api/v1/orders/{order.pk}/acknowledge", {"decision": "accept"}, format="json",
            headers={"Idempotency-Key": f"ack-{order.pk}"},
        )  # fmt: skip
        assert ack.status_code == 200 and ack.json()["ack_state"] == AckState.ACCEPTED
    m = parse(scrape(base)[1])
    assert value(m, "wattbit_dispatch_orders_awaiting_ack") == len(orders) - len(mine)

    # HTTP metrics of both gunicorn workers merged through the multiprocess directory.
    def healthz_count(samples) -> float:
        return total(samples, "wattbit_http_requests_total", view="healthz", status="200")

    before = healthz_count(m)
    for _ in range(8):
        urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # noqa: S310
    after = parse(scrape(base)[1])
    assert healthz_count(after) - before == 8
    assert any(multiproc.glob("*.db")), "no multiprocess files written"
    assert "GET /healthz" in log.read_text()  # the access log
    assert not workers.failures(), workers.failures()
