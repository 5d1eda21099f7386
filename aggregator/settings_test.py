"""Test overlay: the real settings, with tasks in-process and cheap password hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
# The audit chain's and ledger's HMAC key; set in the environment so that worker and
# server processes started by the tests (tests/e2e) key exactly as the test process does.
os.environ.setdefault("AUDIT_HMAC_KEY", "test-only-audit-hmac-key-0123456789-abcdefghijklmnop")

from aggregator.settings import *  # noqa: F403
from aggregator.settings import STORAGES

# Unit tests run the pipeline in-process; the end-to-end test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://localhost/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WEBHOOK_ALLOW_PRIVATE_TARGETS = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}  # noqa: F405
# In-process tests share one cache that rolls back with each test (the database's), not a
# Redis that would carry throttle counters from one test to the next; the tests of limits
# across processes start real servers with the real settings (tests/api).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "wattbit_cache",
    }
}
# Django's test client logs in without a request, which django-axes refuses; the lockout
# tests switch it on (tests/operators/test_login_lockout.py).
AXES_ENABLED = False
