"""deploy/prometheus/alerts.yml: valid for Prometheus, its unit tests pass, and every metric
and label value an alert reads is one /metrics really exposes."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client

from aggregator.platform.integrity_checks import CHECKS, integrity_check_record
from market.models.clearing import ClearingRun, RunStatus
from tests.support.prometheus import ALERTS, alert_metric_names, alert_selectors, parse

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian: apt-get install prometheus)"
)


@needs_promtool
def test_the_rules_pass_promtool_check():
    done = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_the_rules_unit_tests_pass():
    tests = ALERTS.with_name("alerts.test.yml")
    done = subprocess.run(
        [PROMTOOL, "test", "rules", tests.name], cwd=tests.parent, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def redis_url(tmp_path, settings):
    """A real redis-server, so that the queue metrics are exposed too."""
    from tests.e2e.stack import REDIS_SERVER, RedisServer

    if not Path(REDIS_SERVER).exists():
        pytest.skip("no redis-server installed")
    try:
        server = RedisServer(tmp_path).start()
    except (OSError, AssertionError) as exc:
        pytest.skip(f"redis-server does not start here: {exc}")
    settings.REDIS_URL = server.url
    yield server.url
    server.kill()


@pytest.mark.django_db
def test_every_metric_an_alert_reads_is_exposed(redis_url):
    # Rows so that every family has samples: a completed run and each check's verdict.
    gate = datetime(2030, 4, 1, 2, 0, tzinfo=UTC)
    ClearingRun.objects.create(
        interval_start=gate + timedelta(hours=1), horizon_intervals=4, gate_closure=gate,
        status=RunStatus.COMPLETED, started_at=gate, finished_at=gate,
        solver_stats={"feasible_triples": 10}, timings={"solve_s": 0.5},
    )  # fmt: skip
    for name in CHECKS:
        integrity_check_record(name=name, ok=True)
    response = Client().get("/metrics")
    assert response.status_code == 200
    samples = parse(response.content.decode())

    used = alert_metric_names()
    assert len(used) >= 10, used  # the parser found the alerts' metrics
    missing = sorted(name for name in used if name not in samples)
    assert not missing, f"alerts read metrics /metrics does not expose: {missing}"
    for name, labels in alert_selectors():
        assert any(all(have.get(k) == v for k, v in labels) for have, _value in samples[name]), (
            f"no {name} sample with {dict(labels)}"
        )
