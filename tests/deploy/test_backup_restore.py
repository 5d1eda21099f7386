"""The backup/restore runbook of docs/deploy.md, run for real on PostgreSQL.

A scratch database on the test server lives through a simulated day (demo market, 48
intervals cleared and settled), is dumped with `pg_dump -Fc` and restored with `pg_restore`
into a second fresh database. The restored copy must then pass the three checks of the
runbook — `verify_audit_chain` (with the checkpoint signed before the dump), `check_ledger`
and `replay_clearing --all` — and hold the day's runs and ledger. To show the checks can
fail, the copy is then verified with another AUDIT_HMAC_KEY (the key is not in the dump),
one audit row and one posting are altered by SQL, and the checks must exit 1.

Every step is a `manage.py` subprocess with the production settings (DEBUG off, tasks
in-process: no REDIS_URL), as an operator would run it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from aggregator.platform.models import AuditEvent
from market.models.clearing import ClearingRun, RunStatus
from settlement.models.ledger import JournalEntry, Posting

ROOT = Path(__file__).resolve().parents[2]
INTERVALS = 48


def _problem() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return "the backup/restore test needs DATABASE_URL=postgres://… (a real PostgreSQL)"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_problem() is not None, reason=_problem() or ""),
]


def _url_for(database: str) -> str:
    """DATABASE_URL with another database name (same server, same role)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


def _connect(database: str | None = None) -> psycopg.Connection:
    url = _url_for(database) if database else os.environ["DATABASE_URL"]
    return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)


def _server_tool(name: str) -> str:
    """pg_dump/pg_restore of the server's major version (an older one refuses a newer server)."""
    with _connect() as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    tool = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if not tool.exists():
        pytest.skip(f"no {tool}: install the PostgreSQL {major} client to run the restore test")
    return str(tool)


def _libpq_args(database: str) -> list[str]:
    """Connection options for the client tools, taken from DATABASE_URL."""
    parts = urlsplit(_url_for(database))
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-d", database]
    if parts.username:
        args += ["-U", parts.username]
    return args


def _tool_env() -> dict[str, str]:
    env = dict(os.environ)
    password = urlsplit(os.environ["DATABASE_URL"]).password
    if password:
        env["PGPASSWORD"] = password
    return env


def _manage_env(database: str, workdir: Path, **overrides: str) -> dict[str, str]:
    """The production settings against `database`, the test's keys, tasks in-process."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "REDIS_URL_FILE", "DATABASE_URL_FILE"}
        and not k.startswith(("SECRET_KEY", "AUDIT_HMAC_KEY"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "aggregator.settings",
            "DATABASE_URL": _url_for(database),
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
            "WATTBIT_VAR_DIR": str(workdir / "var"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(overrides)
    return env


def _manage(database: str, workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_manage_env(database, workdir, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (
        f"{' '.join(result.args[1:])} exited {result.returncode}:\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def _count(database: str, model, where: str = "", *params) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(model._meta.db_table))
    if where:
        query = query + sql.SQL(" WHERE " + where)
    with _connect(database) as conn:
        return conn.execute(query, params).fetchone()[0]


@pytest.fixture
def scratch_databases():
    """Two empty databases on the test server, dropped at the end whatever happened."""
    stem = f"wattbit_restore_{os.getpid()}_{int(time.time())}"
    names = [f"{stem}_src", f"{stem}_copy"]
    with _connect() as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield names
    finally:
        with _connect() as conn:
            for name in names:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def test_a_dump_of_a_day_restores_and_passes_every_check(scratch_databases, tmp_path):
    source, copy = scratch_databases
    pg_dump, pg_restore = _server_tool("pg_dump"), _server_tool("pg_restore")

    # A simulated day on the source database, as the runbook's production would have.
    _ok(_manage(source, tmp_path, "migrate", "--noinput", "-v", "0"))
    _ok(_manage(source, tmp_path, "load_demo", "--allow-production"))
    day = _ok(_manage(source, tmp_path, "run_market", "--intervals", str(INTERVALS), "--settle"))
    assert f"{INTERVALS}/{INTERVALS} intervals cleared" in day, day[-2000:]
    # The checkpoint regulators hold outside the database, signed before the backup.
    checkpoint = _ok(_manage(source, tmp_path, "audit_checkpoint")).split()[-1]
    assert checkpoint.startswith("wbckpt1."), checkpoint

    runs = _count(source, ClearingRun, "status = %s", RunStatus.COMPLETED)
    entries = _count(source, JournalEntry)
    postings = _count(source, Posting)
    audit_rows = _count(source, AuditEvent)

    # Backup and restore exactly as docs/deploy.md says.
    dump = tmp_path / "wattbit.dump"
    subprocess.run(
        [pg_dump, "-Fc", "--no-owner", "-f", str(dump), *_libpq_args(source)],
        env=_tool_env(), check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert dump.stat().st_size > 0
    subprocess.run(
        [pg_restore, "--no-owner", "--exit-on-error", *_libpq_args(copy), str(dump)],
        env=_tool_env(), check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    # The copy holds the day: every completed run, the ledger, the audit chain.
    assert runs == INTERVALS
    assert entries > 0 and postings > 0 and audit_rows > 0
    assert _count(copy, ClearingRun, "status = %s", RunStatus.COMPLETED) == runs
    assert _count(copy, JournalEntry) == entries
    assert _count(copy, Posting) == postings
    assert _count(copy, AuditEvent) == audit_rows

    # The runbook's three checks pass on the restored copy.
    chain = _ok(_manage(copy, tmp_path, "verify_audit_chain"))
    assert f"audit chain OK: {audit_rows} row(s) verified" in chain, chain
    stored = int(re.search(r"(\d+) checkpoint\(s\) matched", chain).group(1))
    assert stored >= 1, chain  # the checkpoint signed before the dump was restored with it
    # ... and the copy regulators hold outside the database matches the restored chain.
    chain = _ok(_manage(copy, tmp_path, "verify_audit_chain", "--checkpoint", checkpoint))
    assert f"{stored + 1} checkpoint(s) matched" in chain, chain
    ledger = _ok(_manage(copy, tmp_path, "check_ledger"))
    assert f"{entries} entries, {postings} postings" in ledger, ledger
    assert "ledger OK" in ledger
    replay = _ok(_manage(copy, tmp_path, "replay_clearing", "--all"))
    assert f"{runs} run(s) replayed identically" in replay, replay[-2000:]

    # Without the key kept outside the database the copy cannot be verified.
    wrong_key = _manage(
        copy, tmp_path, "verify_audit_chain", AUDIT_HMAC_KEY="another-key-" + "x" * 40
    )
    assert wrong_key.returncode == 1, wrong_key.stdout + wrong_key.stderr
    assert "BROKEN" in wrong_key.stderr

    # The checks can fail: one audit row altered by SQL breaks the chain at that row ...
    with _connect(copy) as conn:
        seq = conn.execute(
            sql.SQL("SELECT seq FROM {} ORDER BY seq OFFSET %s LIMIT 1").format(
                sql.Identifier(AuditEvent._meta.db_table)
            ),
            (audit_rows // 2,),
        ).fetchone()[0]
        conn.execute(
            sql.SQL(
                "UPDATE {} SET payload = payload || '{{\"tampered\": true}}'::jsonb WHERE seq = %s"
            ).format(sql.Identifier(AuditEvent._meta.db_table)),
            (seq,),
        )
    tampered = _manage(copy, tmp_path, "verify_audit_chain")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    broken_at = re.search(r"BROKEN at row #(\d+)", tampered.stderr)
    assert broken_at and int(broken_at.group(1)) == seq, tampered.stderr

    # ... and one posting's amount changed makes the ledger check fail.
    with _connect(copy) as conn:
        conn.execute(
            sql.SQL(
                "UPDATE {} SET amount_jpy = amount_jpy + 1 WHERE id = (SELECT min(id) FROM {})"
            ).format(sql.Identifier(Posting._meta.db_table), sql.Identifier(Posting._meta.db_table))
        )
    bad_ledger = _manage(copy, tmp_path, "check_ledger")
    assert bad_ledger.returncode == 1, bad_ledger.stdout + bad_ledger.stderr
    assert "the ledger check failed" in bad_ledger.stderr
