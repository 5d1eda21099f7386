"""The engine's tests need no database: CI runs them in its first pass only.

`.ci/run` runs the whole suite twice, on SQLite and on PostgreSQL + Redis; these tests
would give the same answer twice (about two minutes of the budget). WATTBIT_ENGINE_TESTS=0
skips them, saying why; nothing else does.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("WATTBIT_ENGINE_TESTS", "1") != "0":
        return
    skip = pytest.mark.skip(reason="database-independent: run in CI's first (SQLite) pass")
    for item in items:
        if "tests/engine/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)
