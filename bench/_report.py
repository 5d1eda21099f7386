"""Benchmarks write their figures into their own section of docs/benchmarks.md."""

from __future__ import annotations

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
