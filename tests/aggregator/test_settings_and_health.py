"""Settings from the environment, production hardening, and the probes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from aggregator.platform.env import ImproperEnvironment, env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "aggregator.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3J9x-PqR7vT2mN8bW4yZ6cH1fL5gD0sA9eU3iO7pQ2rX8tV4nM6jK1hG5dF0sYw",
    "ALLOWED_HOSTS": "exchange.wattbit.jp",
}


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_settings_fail_check_deploy():
    # Proves the check above is not vacuous: the development shape does warn.
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="1")
    assert result.returncode != 0


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DEBUG="0", ALLOWED_HOSTS="x")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_bad_boolean_fails_loudly():
    result = _manage("check", DEBUG="perhaps")
    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_env_helpers(monkeypatch, tmp_path):
    monkeypatch.setenv("WB_FLAG", "yes")
    assert env_bool("WB_FLAG", False) is True
    monkeypatch.setenv("WB_NUM", "12x")
    with pytest.raises(ImproperEnvironment, match="WB_NUM"):
        env_int("WB_NUM", 1)
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("WB_SECRET_FILE", str(secret))
    assert env_str("WB_SECRET") == "from-a-file"
    with pytest.raises(ImproperEnvironment, match="WB_REQUIRED"):
        env_str("WB_REQUIRED", required=True)


def test_healthz():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_unavailable_when_broker_unreachable(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unreachable"


@pytest.mark.django_db
def test_openapi_schema_lists_endpoints():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/sites/",
        "/api/v1/api-keys/",
        "/api/v1/webhook-endpoints/",
        "/api/v1/areas/",
    ]:
        assert path in paths
    assert Client().get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_unknown_api_path_is_a_problem_document(settings):
    settings.DEBUG = False
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/not-found")
