"""Where the reference data that ships with the market lives (credits: market/data/SOURCE.md)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
