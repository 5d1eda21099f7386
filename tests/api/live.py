"""Real servers for tests that need more than the test client: a scratch database of their
own (a SQLite file, or a scratch PostgreSQL database next to DATABASE_URL), production
settings (DEBUG off), and gunicorn processes."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

MAKE_KEY = """
from operators import services
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole
org = services.organisation_create(actor=None, slug="fuzz", legal_name_ja="ファズ",
    legal_name_en="Fuzz K.K.", roles=["compute_provider", "workload_owner", "power_supplier"])
member = services.member_add(actor=None, organisation=org, username="fuzz",
    email="fuzz@example.jp", role=MemberRole.ADMIN, password="fuzz-password-2026-x")
actor = Actor(org, MEMBER_ROLE_SCOPES[MemberRole.ADMIN], user=member.user)
services.site_register(actor=actor, code="fuzz-tky-1", name="Fuzz Tokyo", area="tokyo",
    prefecture="tokyo", accelerator="h100", capacity_cu=64, kw_per_cu="1.0", pue="1.3",
    residency_tags=["jp"], latency_ms={"tokyo": 2})
_key, raw = services.api_key_create(actor=actor, name="fuzz", scopes=["read", "trade", "admin"])
print("KEY", raw)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_database(tmp: Path) -> tuple[str, Callable[[], None]]:
    """A database URL of its own (not the test runner's), and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'live.sqlite3'}", lambda: None
    import psycopg

    name = f"wattbit_live_{secrets.token_hex(4)}"
    base, _sep, _db = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def production_env(tmp: Path, database_url: str, **overrides: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")}
    return {
        **keep,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "WATTBIT_VAR_DIR": str(tmp),  # the demo writes its keys file there, not in var/
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def make_key(env: dict[str, str]) -> str:
    """An API key of a new organisation with every market role and every scope."""
    return re.search(r"^KEY (\S+)$", manage(env, "shell", "-c", MAKE_KEY), re.M).group(1)


def gunicorn(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115 — the process owns it until it ends
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aggregator.wsgi", "-b", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--timeout", "60"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise AssertionError(f"gunicorn on {port} did not answer: {log_path.read_text()[-2000:]}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)
