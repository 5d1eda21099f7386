"""Benchmarks write their figures into their own section of docs/benchmarks.md, and the
Django ones run against a scratch test database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(section: str, text: str) -> None:
    """Replace the section headed `section` (up to the next `## `); other sections stay."""
    current = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n\n"
    if section in current:
        head, rest = current.split(section, 1)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        current = head + text + ("\n" + tail if tail else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    BENCHMARKS.write_text(current, encoding="utf-8")


def publish(section: str, text: str, write: bool) -> None:
    """Print a benchmark's report; with --write, also replace its section of the docs."""
    print(text)
    if write:
        write_section(section, text)
        print("written to docs/benchmarks.md")


@contextmanager
def scratch_database() -> Iterator[str]:
    """A throwaway test database (created and destroyed like the test runner's) for a
    Django benchmark; yields the label of the server, e.g. "postgresql 15.18"."""
    from django.db import connection
    from django.test.utils import setup_test_environment

    vendor = connection.vendor
    if vendor != "postgresql":
        print(f"warning: running on {vendor}; the targets are for PostgreSQL (set DATABASE_URL)")
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        version = ""
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = " " + cursor.fetchone()[0].split()[0]
        yield f"{vendor}{version}"
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
