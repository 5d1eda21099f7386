"""The integrity key: required in production, from the environment or a file, derived from
SECRET_KEY only in development; another key verifies nothing."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from aggregator.platform.audit import audit_record, audit_verify_chain
from aggregator.platform.integrity import integrity_key, key_id, key_problem

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "aggregator.settings",
    "DEBUG": "0",
    "SECRET_KEY": "k3J9x-PqR7vT2mN8bW4yZ6cH1fL5gD0sA9eU3iO7pQ2rX8tV4nM6jK1hG5dF0sYw",
    "ALLOWED_HOSTS": "exchange.wattbit.jp",
}
KEY_VARIABLES = ("AUDIT_HMAC_KEY", "AUDIT_HMAC_KEY_FILE", "AUDIT_HMAC_KEY_FROM_SECRET_KEY")


def _check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_key_fails_the_system_check():
    result = _check()
    assert result.returncode != 0
    assert "wattbit.E001" in result.stderr and "AUDIT_HMAC_KEY" in result.stderr


def test_production_takes_the_key_from_a_file(tmp_path):
    secret = tmp_path / "audit_hmac_key"
    secret.write_text("f" * 48 + "\n")
    result = _check(AUDIT_HMAC_KEY_FILE=str(secret))
    assert result.returncode == 0, result.stderr


def test_a_short_key_is_refused():
    result = _check(AUDIT_HMAC_KEY="too-short")
    assert result.returncode != 0 and "at least 32 characters" in result.stderr


def test_debug_derives_a_stable_key_from_secret_key(monkeypatch, settings):
    # No key anywhere (the setting, once settings.py reads it, and the environment).
    settings.AUDIT_HMAC_KEY = None
    monkeypatch.delenv("AUDIT_HMAC_KEY", raising=False)
    settings.DEBUG = True
    expected = hmac.new(
        settings.SECRET_KEY.encode(), b"wattbit/audit-hmac-key/v1", hashlib.sha256
    ).digest()
    assert integrity_key() == expected == integrity_key()
    settings.DEBUG = False
    assert "must be set when DEBUG is off" in key_problem()
    with pytest.raises(ImproperlyConfigured):
        integrity_key()


@pytest.mark.django_db
def test_a_chain_checked_with_another_key_fails_at_its_first_row(monkeypatch, settings):
    for i in range(3):
        audit_record(code="test.event", actor_label="system", payload={"n": i})
    ours = key_id()
    assert audit_verify_chain().ok
    other = "another-deployment-key-0123456789-abcdefghij"
    settings.AUDIT_HMAC_KEY = other
    monkeypatch.setenv("AUDIT_HMAC_KEY", other)
    assert key_id() != ours
    verdict = audit_verify_chain()
    assert not verdict.ok and verdict.first_bad_seq == 1
