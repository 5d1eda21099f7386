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
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api import live

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("WATTBIT_FUZZ_EXAMPLES", "6"))
MAX_TIME_S = int(os.environ.get("WATTBIT_FUZZ_MAX_TIME", "150"))
SEED = 20261204
CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def live_exchange(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    database_url, drop = live.scratch_database(tmp)
    port = live.free_port()
    env = live.production_env(
        tmp, database_url,
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",  # the demo receiver is on loopback
        # Throttling is tested on its own; here it would answer 429 to most of the cases.
        API_RATE_ORGANISATION="1000000/min",
    )  # fmt: skip
    live.manage(env, "migrate", "--noinput", "-v", "0")
    live.manage(
        env, "load_demo", "--allow-production", "--webhook-base", f"http://127.0.0.1:{port}"
    )
    live.manage(env, "run_market", "--intervals", "2", "--settle")
    key = live.make_key(env)
    server = live.gunicorn(env, port, tmp / "server.log")
    try:
        yield f"http://127.0.0.1:{port}", key, tmp
    finally:
        live.stop(server)
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
