"""Liveness and readiness probes for the orchestrator."""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    """The process is alive and serving; checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


def _check_database() -> tuple[bool, str]:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        plan = MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    except Exception:
        return False, "unreachable"
    if plan:
        return False, f"{len(plan)} migration(s) not applied"
    return True, "ok"


def _check_broker() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "in-process (no broker configured)"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError:
        return False, "unreachable"
    return True, "ok"


@never_cache
@require_GET
def readyz(request) -> JsonResponse:
    """Ready to take traffic: database reachable and migrated, broker reachable if configured."""
    db_ok, db_detail = _check_database()
    broker_ok, broker_detail = _check_broker()
    ready = db_ok and broker_ok
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {"database": db_detail, "broker": broker_detail},
    }
    return JsonResponse(body, status=200 if ready else 503)
