"""Schemathesis over our OpenAPI document, against a live server with the demo market.

Bounded (a fixed seed, a fixed number of examples per operation, a time cap) so that it
runs in every CI pass: on SQLite and on PostgreSQL (some inputs only failed there). It
fails on any 5xx and on any response that is not what the schema documents (body,
status code, content type). The server is production-shaped: gunicorn, DEBUG off.

The key belongs to an organisation with every market role and every scope, so each
operation is reached past authorisation; its own revocation is left out (it would lock
the rest of the run out).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
EXAMPLES = int(os.environ.get("WATTBIT_FUZZ_EXAMPLES", "6"))
MAX_TIME_S = int(os.environ.get("WATTBIT_FUZZ_MAX_TIME", "150"))
SEED = 20261204
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"

MAKE_KEY = """
from operators import services
from operators.actors import Actor
from operators.choices import MEMBER_ROLE_SCOPES, MemberRole
from operators.models import Organisation
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scratch_database(tmp: Path):
    """A database URL of its own (not the test runner's), and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'fuzz.sqlite3'}", lambda: None
    import psycopg

    name = f"wattbit_fuzz_{secrets.token_hex(4)}"
    base, _sep, _db = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


@pytest.fixture(scope="module")
def live_exchange(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    database_url, drop = _scratch_database(tmp)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "REDIS_URL")},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "WATTBIT_VAR_DIR": str(tmp),  # the demo writes its keys file there, not in var/
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",  # the demo receiver is on loopback
        # Throttling is tested on its own; here it would answer 429 to most of the cases.
        "API_RATE_ORGANISATION": "1000000/min",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]

    def run(*args: str) -> str:
        done = subprocess.run([*manage, *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    port = _free_port()
    run("migrate", "--noinput", "-v", "0")
    run("load_demo", "--allow-production", "--webhook-base", f"http://127.0.0.1:{port}")
    run("run_market", "--intervals", "2", "--settle")
    key = re.search(r"^KEY (\S+)$", run("shell", "-c", MAKE_KEY), re.M).group(1)
    log = open(tmp / "server.log", "w")  # noqa: SIM115 — closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aggregator.wsgi", "-b", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--timeout", "60"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=1)  # noqa: S310 — loopback
                break
            except OSError:
                time.sleep(0.1)
        yield url, key, tmp
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        drop()


def test_no_server_errors_and_every_response_as_documented(live_exchange):
    url, key, tmp = live_exchange
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is a dev dependency (pyproject.toml)"
    done = subprocess.run(
        [cli, "--no-color", "run", f"{url}/api/schema/", "-H", f"Authorization: Api-Key {key}",
         "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--max-time", str(MAX_TIME_S),
         "--seed", str(SEED), "--phases", "examples,coverage,fuzzing",
         "--exclude-path-regex", "/api-keys/.*/revoke", "--suppress-health-check", "all",
         "--request-timeout", "30", "--workers", "1"],
        cwd=tmp, capture_output=True, text=True, timeout=MAX_TIME_S + 240,
    )  # fmt: skip
    output = done.stdout + done.stderr
    (tmp / "schemathesis.log").write_text(output)
    summary = re.findall(r"(Tested: \d+|\d+ generated.*)", output)
    print("schemathesis:", "; ".join(summary), f"(full output: {tmp / 'schemathesis.log'})")
    assert done.returncode == 0, (
        _digest(output) + "\n--- server log ---\n" + (tmp / "server.log").read_text()[-3000:]
    )


def _digest(output: str) -> str:
    """Each failing operation with the checks it failed (the full log is kept in tmp)."""
    lines, current = [], None
    for line in output.splitlines():
        if re.match(r"^_+ (GET|POST|PUT|PATCH|DELETE) \S+ _+$", line):
            current = line.strip("_ ")
        elif current and re.match(r"^- ST\d+|^\s+Received: \d+|^\s+Documented:", line.strip()):
            lines.append(f"{current}: {line.strip()}")
    tail = "\n".join(output.splitlines()[-25:])
    return "\n".join(lines[:200]) + "\n...\n" + tail
