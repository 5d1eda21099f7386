"""The real stack for end-to-end tests: a redis-server, `celery worker` processes, polling.

Each test gets its own redis-server on a free loopback port (so a test may restart it, and
no task left over by one test reaches the next) and starts real worker processes that
connect to pytest-django's test database. The test process itself publishes to that
broker: the Celery app is switched out of eager mode for the test and back afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from aggregator.platform.queues import CELERY_QUEUES

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

# Short clocks so faults heal in seconds: a dead worker's run is taken over after the
# lease; its unacknowledged message comes back after the visibility timeout (plus the
# restore sweep, 2 s in settings); a push gives up on a silent receiver after the timeout.
LEASE_S = 6
VISIBILITY_TIMEOUT_S = 4
WEBHOOK_TIMEOUT_S = 2
# Every queue a task is routed to (settings.CELERY_TASK_ROUTES); a worker started without
# `queues` consumes them all, like the single worker of a small deployment.
QUEUES = CELERY_QUEUES


def stack_problem() -> str | None:
    """Why the end-to-end tests cannot run here, or None if they can."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "end-to-end tests need DATABASE_URL=postgres://… (a real PostgreSQL)"
    if not os.environ.get("REDIS_URL"):
        return "end-to-end tests need REDIS_URL (a real Redis)"
    if not Path(REDIS_SERVER).exists():
        return "end-to-end tests start their own redis-server; none is installed"
    if not CELERY.exists():
        return f"no celery executable next to {sys.executable}"
    return None


def e2e_marks() -> list:
    """Marks every end-to-end module carries."""
    problem = stack_problem()
    return [
        pytest.mark.e2e,
        pytest.mark.skipif(problem is not None, reason=problem or ""),
        # Committed rows, so that worker processes see them. The reference rows (areas,
        # zones) that a migration loads come back through the `reference_data` fixture
        # (tests/e2e/conftest.py), not `serialized_rollback`: restoring the serialized
        # database fails with duplicate content types whenever the test before was a
        # transactional one without it (its flush re-creates them under new ids).
        pytest.mark.django_db(transaction=True),
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    every: float = 0.1,
    tick: Callable[[], None] | None = None,
    tick_every: float = 1.0,
    context: Callable[[], str] | None = None,
):
    """Poll `predicate` until it returns something truthy; fail with `what` at the deadline.

    `tick` (e.g. one beat of the outbox relay) runs at most every `tick_every` seconds;
    `context` (e.g. the workers' logs) is added to the failure message.
    """
    deadline = time.monotonic() + timeout
    next_tick = time.monotonic()
    while True:
        if tick is not None and time.monotonic() >= next_tick:
            tick()
            next_tick = time.monotonic() + tick_every
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = f"\n{context()}" if context is not None else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(every)


class RedisServer:
    """A throwaway redis-server without persistence: a restart loses every queued message."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--logfile",
             str(self.workdir / "redis.log")],
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), timeout=10, what="redis-server to answer", every=0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the server vanishes with everything it held."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, down_s: float = 0.0) -> None:
        self.kill()
        time.sleep(down_s)
        self.start()

    def queued(self) -> int:
        """Messages waiting in every queue the tasks are routed to."""
        client = redis.Redis.from_url(self.url)
        return sum(client.llen(queue) for queue in QUEUES)

    def idle(self) -> bool:
        """Nothing queued, nothing delivered but unacknowledged (retries with a countdown too)."""
        return self.queued() == 0 and redis.Redis.from_url(self.url).hlen("unacked") == 0


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def database_url() -> str:
    """pytest-django's test database, as a URL a worker process can use."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def process_env(redis_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker or beat process of the stack (production settings)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aggregator.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        # Webhook secrets are encrypted with SECRET_KEY: the worker must share it.
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "0",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "CLEARING_LEASE_S": str(LEASE_S),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
        "WEBHOOK_TIMEOUT_S": str(WEBHOOK_TIMEOUT_S),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


class _Process:
    """A process of the stack in its own process group (so SIGKILL takes its children too)."""

    count = 0
    kind = "process"

    def __init__(self, redis_url: str, workdir: Path, **env: str) -> None:
        _Process.count += 1
        self.name = f"e2e{_Process.count}"
        self.log = workdir / f"{self.kind}-{self.name}.log"
        self.redis_url = redis_url
        self.extra_env = env
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return True

    def env(self) -> dict[str, str]:
        return process_env(self.redis_url, self.extra_env)

    def start(self, *, ready_timeout: float = 60):
        return self.launch().wait_ready(ready_timeout=ready_timeout)

    def launch(self):
        """Start the process without waiting for it (start several, then wait for each)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command(), cwd=ROOT, env=self.env(), stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def wait_ready(self, *, ready_timeout: float = 60):
        wait_for(
            lambda: self.ready() or self.process.poll() is not None,
            timeout=ready_timeout,
            what=f"{self.kind} {self.name} to be ready",
            every=0.1,
        )
        assert self.process.poll() is None, (
            f"{self.kind} {self.name} exited:\n{self.output()[-3000:]}"
        )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the process and its children at once, like the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Warm shutdown: a worker lets running tasks finish, then stops its children.
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
        # Children may outlive their parent for a moment; leave none behind.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


class Worker(_Process):
    """A real `celery -A aggregator worker` consuming `queues` (all of them by default)."""

    kind = "worker"

    def __init__(
        self,
        redis_url: str,
        workdir: Path,
        *,
        concurrency: int = 2,
        queues: tuple[str, ...] = QUEUES,
        pool: str = "prefork",
        **env: str,
    ) -> None:
        super().__init__(redis_url, workdir, **env)
        self.concurrency, self.queues, self.pool = concurrency, tuple(queues), pool

    def command(self) -> list[str]:
        return [str(CELERY), "-A", "aggregator", "worker", "--pool", self.pool,
                "-c", str(self.concurrency), "-Q", ",".join(self.queues),
                "-n", f"{self.name}@%h", "--loglevel", "INFO",
                "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip

    def ready(self) -> bool:
        return "ready." in self.output()

    def kill_pool_child(self) -> int:
        """SIGKILL the worker's pool process(es) only; the parent lives on and notices."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        assert children, f"worker {self.name} has no pool process"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        return len(children)


class Beat(_Process):
    """A real `celery -A aggregator beat` (the settings make it redbeat's, with its lock)."""

    kind = "beat"

    def command(self) -> list[str]:
        return [str(CELERY), "-A", "aggregator", "beat", "--loglevel", "INFO"]

    def ready(self) -> bool:
        # "beat: Starting..." is printed before the lock is asked for: a standby is up too.
        return "beat: Starting" in self.output()

    @property
    def holds_lock(self) -> bool:
        return "beat: Acquired lock" in self.output()

    def sends(self) -> list[str]:
        """The lines in which this beat sent a periodic task."""
        return [line for line in self.output().splitlines() if "Sending due task" in line]


__all__ = [
    "LEASE_S",
    "QUEUES",
    "VISIBILITY_TIMEOUT_S",
    "WEBHOOK_TIMEOUT_S",
    "Beat",
    "RedisServer",
    "Worker",
    "e2e_marks",
    "free_port",
    "stack_problem",
    "wait_for",
]
