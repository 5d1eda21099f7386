"""The text of a PDF, through poppler's pdftotext (CI installs poppler-utils)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest


def has_pdftotext() -> bool:
    return shutil.which("pdftotext") is not None


def pdf_text(pdf: bytes, *, layout: bool = False) -> str:
    """The PDF's text; skips the test where pdftotext is not installed (a machine without
    poppler-utils: the PDF is still built and checked as bytes up to here)."""
    if not has_pdftotext():
        pytest.skip("pdftotext (poppler-utils) not installed: PDF text not checked")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        args = ["pdftotext", *(["-layout"] if layout else []), f.name, "-"]
        out = subprocess.run(args, capture_output=True, check=True)
    return out.stdout.decode("utf-8", "replace")
