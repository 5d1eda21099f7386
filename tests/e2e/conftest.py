"""Fixtures for the end-to-end tests: own redis-server, live Celery app, workers, the market."""

from __future__ import annotations

import pytest

from aggregator.celery import app as celery_app
from tests.e2e.scenario import build_market
from tests.e2e.stack import VISIBILITY_TIMEOUT_S, Beat, RedisServer, Worker


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Every end-to-end test needs the grid areas and demand zones."""


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.kill()


def _drop_connections() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def live_celery(redis_server):
    """The test process publishes to the real broker (not eagerly) during the test."""
    conf = celery_app.conf
    saved = {
        "task_always_eager": conf.task_always_eager,
        "broker_url": conf.broker_url,
        "broker_transport_options": conf.broker_transport_options,
    }
    _drop_connections()
    conf.task_always_eager = False
    conf.broker_url = redis_server.url
    conf.broker_transport_options = {
        **(conf.broker_transport_options or {}),
        "visibility_timeout": VISIBILITY_TIMEOUT_S,
    }
    yield celery_app
    _drop_connections()
    for key, value in saved.items():
        setattr(conf, key, value)


@pytest.fixture
def workers(redis_server, live_celery, tmp_path):
    """Start workers with `workers.start(...)`; all are stopped before the database flush."""

    class Pool(list):
        def start(self, **kwargs) -> Worker:
            worker = Worker(redis_server.url, tmp_path, **kwargs)
            self.append(worker)
            return worker.start()

        def start_many(self, *specs: dict) -> list[Worker]:
            """Start several workers at once (they import Django side by side), then wait."""
            started = [Worker(redis_server.url, tmp_path, **spec) for spec in specs]
            self.extend(started)
            for worker in started:
                worker.launch()
            return [worker.wait_ready() for worker in started]

        def logs(self) -> str:
            # The banner is noise; the tasks' log lines are what explains a failure.
            return "\n".join(
                f"--- {w.name}\n" + "\n".join(w.output().splitlines()[-60:]) for w in self
            )

        def revive(self) -> int:
            """Restart workers that exited, as systemd or Kubernetes would; how many."""
            dead = [w for w in self if not w.alive]
            for worker in dead:
                self.remove(worker)
                self.start(concurrency=worker.concurrency)
                self.exited.append(worker)
            return len(dead)

        def failures(self) -> list[str]:
            """Tasks that raised (a lost race shows up here as an IntegrityError)."""
            return [
                line
                for w in self
                for line in w.output().splitlines()
                if any(
                    sign in line
                    for sign in ("raised unexpected", "Task handler raised", "Unrecoverable")
                )
            ]

    pool = Pool()
    pool.exited = []
    yield pool
    for worker in [*pool, *pool.exited]:
        worker.stop()


@pytest.fixture
def market_factory():
    built = []

    def make(**kwargs):
        market = build_market(**kwargs)
        built.append(market)
        return market

    yield make
    for market in built:
        market.stop()


@pytest.fixture(autouse=True)
def _reference_data(reference_data):
    """Grid areas and demand zones survive the previous transactional test's flush."""


@pytest.fixture
def beats(redis_server, tmp_path):
    """Start `celery beat` processes with `beats.start(**env)`; all are stopped at the end."""

    class Beats(list):
        def start(self, **env: str) -> Beat:
            beat = Beat(redis_server.url, tmp_path, **env)
            self.append(beat)
            return beat.start()

    started = Beats()
    yield started
    for beat in started:
        beat.stop()
